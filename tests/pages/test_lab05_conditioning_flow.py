"""Lab 05: its page keeps the standard anatomy, its snippets run, and
every value its page and handbook section quote was glued by a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-05-conditioning-flow.md"
SECTION = ROOT / "docs/tracks/diffsynth/handbook/conditioning-flow.md"
SNIPPETS = sorted(
    (ROOT / "snippets/diffsynth/lab05_conditioning_flow").glob("*.py")
)


@pytest.fixture(scope="module")
def engine(site_results):
    """The session build's results (nothing runs twice)."""
    return site_results


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_runs(engine, path):
    engine.result(path.relative_to(ROOT).as_posix())


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)
