"""Lab 04 and its handbook section: the page keeps the standard anatomy,
every snippet ran in the session build, every value the prose quotes was
glued by the run, and the outputs say what the prose says they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
FOLDER = "snippets/diffsynth/lab04_scheduler_loop_reading"
LAB = ROOT / "docs/tracks/diffsynth/labs/lab-04-scheduler-loop-reading.md"
HANDBOOK = ROOT / "docs/tracks/diffsynth/handbook/scheduler-loop-reading.md"
SNIPPETS = sorted(p.name for p in (ROOT / FOLDER).glob("*.py"))
DIRECTIVE = re.compile(r"\{\{\s*(?:run|code|output|notebook)\s+([\w.]+)")


@pytest.fixture(scope="module")
def results(site_results):
    engine = site_results  # the session build's results
    cache = {}

    def result(name):
        if name not in cache:
            cache[name] = engine.result(f"{FOLDER}/{name}")
        return cache[name]

    return result


def test_page_has_the_standard_anatomy():
    assert missing_sections(LAB) == []


def test_every_snippet_is_on_a_page():
    named = {
        m.group(1)
        for page in (LAB, HANDBOOK)
        for m in DIRECTIVE.finditer(page.read_text())
    }
    assert named == set(SNIPPETS)


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(LAB, ROOT, site_results)


def test_hand_loop_matches_the_pipeline_bit_for_bit(results):
    out = results("scheduler_loop_reading.py").output()
    assert "loop by hand == pipe(...): True" in out
    trailing = list(range(999, 0, -100))  # 999, 899, ..., 99
    assert f"timesteps: {trailing}" in out


def test_guidance_doubles_the_batch_not_the_calls(results):
    out = results("01_denoiser_calls.py").output("guidance")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("4", "1.0", "4", "[1]"),
        ("4", "3.0", "4", "[2]"),
        ("8", "1.0", "8", "[1]"),
        ("8", "3.0", "8", "[2]"),
    ]
    assert results("01_denoiser_calls.py").glue["heun_calls"] == "7"


def test_trap_rows(results):
    out = results("04_prediction_trap.py").output("mismatch")
    assert re.search(r"DDIM, epsilon\s+100%", out)
    assert re.search(r"DDIM, v \(trained\)\s+0%\s+brick", out)
    flow = results("04_prediction_trap.py").output("flow")
    assert "has no attribute 'init_noise_sigma'" in flow


def test_schedules_and_diffsynth_timesteps(results):
    glue = results("02_schedules.py").glue
    assert glue["euler_sigma_max"] == "4096"
    assert (glue["diffsynth_last"], glue["diffusers_last"]) == ("0", "99")


def test_latency_counts_calls_without_asserting_seconds(results):
    out = results("05_latency.py").output("measure")
    for steps in (2, 4, 8, 16):
        assert out.count(f"{steps} calls") == 2  # with and without guidance
