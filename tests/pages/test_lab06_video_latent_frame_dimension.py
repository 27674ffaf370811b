"""Lab 06: its page keeps the standard anatomy, its snippets run, every
value its page and handbook section quote was glued by a run, and the
runs show what the page claims about the frame axis."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs/tracks/diffsynth"
PAGE = DOCS / "labs/lab-06-video-latent-frame-dimension.md"
SECTION = DOCS / "handbook/video-latent-frame-dimension.md"
FOLDER = "snippets/diffsynth/lab06_video_latent_frame_dimension"
SNIPPETS = sorted((ROOT / FOLDER).glob("*.py"))


def glued(site_results, name: str) -> dict[str, str]:
    return site_results.result(f"{FOLDER}/{name}").glue


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_the_random_video_vae_is_labelled(page):
    text = page.read_text("utf-8")
    assert "random weights" in text.lower()


def test_every_use_of_the_random_vae_prints_so(site_results):
    for path in SNIPPETS:
        if "small_wan_vae" in path.read_text("utf-8"):
            result = site_results.result(path.relative_to(ROOT).as_posix())
            assert "RANDOM WEIGHTS" in result.output(), path.name


def test_frame_rule(site_results):
    g = glued(site_results, "01_frame_rule.py")
    assert g["nine_latent"] == "3" and g["thirteen_latent"] == "4"
    assert g["thirteen_calls"] == "1, 4, 4, 4"
    assert (g["four_latent"], g["four_out"], g["eight_out"]) == ("1", "1", "5")
    # DiffSynth-Studio rounds up to 4k + 1 and makes matching noise
    assert (g["eight_ds"], g["four_ds"], g["eight_ds_latent"]) == (
        "9",
        "5",
        "3",
    )


def test_causal_coupling(site_results):
    g = glued(site_results, "03_coupling.py")
    assert g["frame0_reach"] == g["latent_frames"] == "3"
    assert (g["frame4_first"], g["frame5_first"], g["last_first"]) == (
        "1",
        "2",
        "2",
    )
    assert (g["latent1_first"], g["latent2_first"]) == ("1", "5")


def test_vae_memory_is_nearly_flat_in_frames(site_results):
    g = glued(site_results, "04_memory.py")

    def mib(name):
        return float(g[name].replace(",", ""))

    assert mib("dec81") < 1.2 * mib("dec5")
    assert mib("fold_peak") > 5 * mib("dec81")
    assert mib("dec1") < mib("dec5")


def test_traps(site_results):
    g = glued(site_results, "06_traps.py")
    assert (g["clip_frames"], g["batch_frames"]) == ("9", "3")
    assert g["framewise_frames"] == "3"
    assert g["unet_input"] == "(10, 4, 16, 16)"  # no frame axis
    assert float(g["gen_high"]) + 3 < float(g["pan_low"])
