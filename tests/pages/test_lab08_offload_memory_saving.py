"""Lab 08 and its handbook section: the lab page keeps the standard
anatomy, every snippet ran in the session build, every value the prose
quotes was glued by a run, every quoted library line is still there, and
the offload schedules behave as the pages say."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infralens.labs import (
    check_page,
    check_quotes,
    missing_sections,
    unplaced_snippets,
)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-08-offload-memory-saving.md"
SECTION = ROOT / "docs/tracks/diffsynth/handbook/offload-memory-saving.md"
FOLDER = ROOT / "snippets/diffsynth/lab08_offload_memory_saving"
SNIPPETS = sorted(FOLDER.glob("*.py"))


def result(site_results, name):
    return site_results.result((FOLDER / name).relative_to(ROOT).as_posix())


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_every_snippet_is_on_one_of_the_two_pages():
    assert unplaced_snippets(FOLDER, [PAGE, SECTION], ROOT) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_quoted_lines_still_hold(page):
    check_quotes(page, ROOT)


def test_model_offload_holds_one_component_and_moves_it_once(site_results):
    res = result(site_results, "01_model_offload.py")
    glued = res.glue
    sizes = {k: float(v) for k, v in ast.literal_eval(glued["sizes"]).items()}
    assert float(glued["model_peak"]) == max(sizes.values())
    assert int(glued["model_transfers"]) == 6
    account = res.output("account")
    assert "step 2" not in account  # no transfer inside the loop
    calls = res.output("calls")
    assert "same image as without offload: True" in calls
    # the real hook moved the UNet every step on this CPU-only build
    assert int(glued["unet_tos"]) == 4


def test_diffusers_sequential_offload_fails_on_cpu(site_results):
    out = result(site_results, "02_sequential_offload.py").output("refuse")
    assert "execution device: cpu:0" in out
    assert "TypeError" in out
    assert "Parameter.to('cpu:0'): Tensor, a copy" in out


def test_sequential_offload_reloads_the_unet_every_step(site_results):
    res = result(site_results, "02_sequential_offload.py")
    out = res.output("run")
    assert "UNet weight between calls: meta" in out
    assert "same image as without offload: True" in out
    rows = [line.split() for line in out.splitlines() if line[:4] == "step"]
    assert len(rows) == 4 and len({tuple(r[2:]) for r in rows}) == 1
    assert (
        res.glue["seq_step_mib"]
        == result(site_results, "01_model_offload.py").glue["unet_mib"]
    )


def test_peaks_order_and_transfers(site_results):
    glued = result(site_results, "03_residency_timeline.py").glue
    assert int(glued["seq_over_model"]) > 100
    traps = result(site_results, "04_traps.py").glue
    assert float(traps["seq8_moved"]) > float(traps["seq4_moved"])
    assert float(traps["kept_moved"]) < float(traps["seq4_moved"])
    assert int(traps["model_count"]) == 6  # independent of the steps


def test_figure_has_alt_text(site_results):
    images = result(site_results, "03_residency_timeline.py").images
    assert [im.name for im in images] == ["residency_timeline.png"]
    assert "model offload" in images[0].alt
