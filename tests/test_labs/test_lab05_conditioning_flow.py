"""Lab 05: its page keeps the standard anatomy, its snippets run, and
every value its page and handbook section quote was glued by a run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infralens.labs import missing_sections, unglued_values

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


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_every_quoted_value_was_glued(engine, page):
    count, missing = unglued_values(page, ROOT, engine.result)
    assert count, "the page quotes no values"
    assert not missing, missing


@pytest.mark.parametrize("index", ["labs/index.md", "index.md"])
def test_indexes_list_the_labs_in_order(index):
    text = (ROOT / "docs/tracks/diffsynth" / index).read_text("utf-8")
    numbers = [int(n) for n in re.findall(r"\[Lab (\d+):", text)]
    assert 5 in numbers and numbers == sorted(set(numbers))
