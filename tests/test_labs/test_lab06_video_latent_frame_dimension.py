"""Lab 06: its page keeps the standard anatomy, its snippets run, every
value its page and handbook section quote was glued by a run, and the
runs show what the page claims about the frame axis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infralens.engine.runner import Engine, shutdown_workers
from infralens.labs import missing_sections, unglued_values

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs/tracks/diffsynth"
PAGE = DOCS / "labs/lab-06-video-latent-frame-dimension.md"
SECTION = DOCS / "handbook/video-latent-frame-dimension.md"
FOLDER = "snippets/diffsynth/lab06_video_latent_frame_dimension"
SNIPPETS = sorted((ROOT / FOLDER).glob("*.py"))


@pytest.fixture(scope="module")
def engine():
    yield Engine(root=ROOT, cache_dir=ROOT / ".cache/infralens")
    shutdown_workers()


def glued(engine, name: str) -> dict[str, str]:
    return engine.result(f"{FOLDER}/{name}").glue


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_runs(engine, path):
    engine.result(path.relative_to(ROOT).as_posix())


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_every_quoted_value_was_glued(engine, page):
    count, missing = unglued_values(page, ROOT, engine.result)
    assert count, "the page quotes no values"
    assert not missing, missing


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_the_random_video_vae_is_labelled(page):
    text = page.read_text("utf-8")
    assert "random weights" in text.lower()


def test_every_use_of_the_random_vae_prints_so(engine):
    for path in SNIPPETS:
        if "small_wan_vae" in path.read_text("utf-8"):
            result = engine.result(path.relative_to(ROOT).as_posix())
            assert "RANDOM WEIGHTS" in result.output(), path.name


def test_frame_rule(engine):
    g = glued(engine, "01_frame_rule.py")
    assert g["nine_latent"] == "3" and g["thirteen_latent"] == "4"
    assert g["thirteen_calls"] == "1, 4, 4, 4"
    assert (g["four_latent"], g["four_out"], g["eight_out"]) == ("1", "1", "5")
    # DiffSynth-Studio rounds up to 4k + 1 and makes matching noise
    assert (g["eight_ds"], g["four_ds"], g["eight_ds_latent"]) == (
        "9",
        "5",
        "3",
    )


def test_causal_coupling(engine):
    g = glued(engine, "03_coupling.py")
    assert g["frame0_reach"] == g["latent_frames"] == "3"
    assert (g["frame4_first"], g["frame5_first"], g["last_first"]) == (
        "1",
        "2",
        "2",
    )
    assert (g["latent1_first"], g["latent2_first"]) == ("1", "5")


def test_vae_memory_is_nearly_flat_in_frames(engine):
    g = glued(engine, "04_memory.py")

    def mib(name):
        return float(g[name].replace(",", ""))

    assert mib("dec81") < 1.2 * mib("dec5")
    assert mib("fold_peak") > 5 * mib("dec81")
    assert mib("dec1") < mib("dec5")


def test_traps(engine):
    g = glued(engine, "06_traps.py")
    assert (g["clip_frames"], g["batch_frames"]) == ("9", "3")
    assert g["framewise_frames"] == "3"
    assert g["unet_input"] == "(10, 4, 16, 16)"  # no frame axis
    assert float(g["gen_high"]) + 3 < float(g["pan_low"])


@pytest.mark.parametrize("index", ["labs/index.md", "index.md"])
def test_indexes_list_the_labs_in_order(index):
    text = (ROOT / "docs/tracks/diffsynth" / index).read_text("utf-8")
    numbers = [int(n) for n in re.findall(r"\[Lab (\d+):", text)]
    assert 6 in numbers and numbers == sorted(set(numbers))


def test_handbook_index_lists_the_section_in_order():
    text = (ROOT / "docs/tracks/diffsynth/handbook/index.md").read_text()
    labs = [int(n) for n in re.findall(r"\[Lab (\d+)\]", text)]
    assert 6 in labs and labs == sorted(set(labs))
