"""Lab 10 and its handbook section: the lab page keeps the standard
anatomy, every snippet ran in the session build, every value the prose
glues resolves, and every quoted library line is still there."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.labs import (
    check_page,
    check_quotes,
    missing_sections,
    unplaced_snippets,
)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-10-end-to-end-inference-trace.md"
SECTION = ROOT / "docs/tracks/diffsynth/handbook/end-to-end-inference-trace.md"
FOLDER = ROOT / "snippets/diffsynth/lab10_end_to_end_inference_trace"
SNIPPETS = sorted(FOLDER.glob("*.py"))


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_every_snippet_is_on_one_of_the_two_pages():
    assert unplaced_snippets(FOLDER, [PAGE, SECTION], ROOT) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_quoted_lines_still_hold(page):
    check_quotes(page, ROOT)


def glue_of(site_results, name):
    rel = (FOLDER / name).relative_to(ROOT).as_posix()
    return site_results.result(rel).glue


def test_trace_counts_shapes_and_memory(site_results):
    # the starter's milliseconds change from run to run; these do not
    glued = glue_of(site_results, "end_to_end_inference_trace.py")
    steps = int(glued["steps"])
    assert int(glued["calls"]) == 2 + 2 + 3 * steps + 3
    assert float(glued["decoder_peak"]) > float(glued["unet_peak"])
    out = "".join(
        site_results.result(
            (FOLDER / "end_to_end_inference_trace.py")
            .relative_to(ROOT)
            .as_posix()
        ).chunks
    )
    assert "vae.decoder                 (1,4,16,16)   (1,3,128,128)" in out
    assert f"steps 2-{steps - 1}: {3 * (steps - 2)} calls" in out


def test_models_only_trace_misses_the_decoder_peak(site_results):
    glued = glue_of(site_results, "05_trap_models_only.py")
    assert float(glued["models_peak"]) < float(glued["decoder_peak"])
    assert float(glued["decoder_peak"]) <= float(glued["whole_peak"])


def test_scheduler_sets_the_unet_calls(site_results):
    assert glue_of(site_results, "05_trap_unet_calls.py")["heun_calls"] == "3"
    glued = glue_of(site_results, "01_cfg_doubling.py")
    assert (glued["guided_batch"], glued["unguided_batch"]) == ("2", "1")


def test_profile_finds_work_no_component_owns(site_results):
    glued = glue_of(site_results, "04_profiler.py")
    assert int(glued["between_ops"]) > 0
    assert int(glued["unet_ops"]) > int(glued["decoder_ops"])
