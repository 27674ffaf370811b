"""Lab 10 and its handbook section: the lab page keeps the standard
anatomy, every snippet runs through the engine, every value the prose
glues resolves, and every quoted library line is still there."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.engine import library, pages
from infralens.engine.runner import Engine, shutdown_workers
from infralens.labs import missing_sections

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-10-end-to-end-inference-trace.md"
SECTION = ROOT / "docs/tracks/diffsynth/handbook/end-to-end-inference-trace.md"
FOLDER = ROOT / "snippets/diffsynth/lab10_end_to_end_inference_trace"
SNIPPETS = sorted(FOLDER.glob("*.py"))


def directives(page: Path):
    rel = page.relative_to(ROOT).as_posix()
    return pages.scan(rel, page.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def engine():
    eng = Engine(root=ROOT, cache_dir=ROOT / ".cache/infralens")
    yield eng
    shutdown_workers()


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_every_snippet_is_on_one_of_the_two_pages():
    named = {
        d.snippet
        for page in (PAGE, SECTION)
        for d in directives(page)
        if d.names_snippet
    }
    folder = {p.relative_to(ROOT).as_posix() for p in SNIPPETS}
    assert folder <= named


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_runs(engine, path):
    result = engine.result(path.relative_to(ROOT).as_posix())
    assert "Traceback" not in "".join(result.chunks)


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_glued_values_resolve(engine, page):
    missing = [
        f"{page.name}:{d.line} {Path(d.snippet).name}:{d.arg}"
        for d in directives(page)
        if d.verb == "val" and d.arg not in engine.result(d.snippet).glue
    ]
    assert missing == []


@pytest.mark.parametrize("page", [PAGE, SECTION], ids=lambda p: p.stem)
def test_quoted_lines_still_hold(page):
    lib = library.Library()
    for d in directives(page):
        if d.verb in ("source", "sourcelink"):
            where = (page.name, d.line)
            library.check_span(
                lib.quote(d.snippet, where), d.span, d.anchor, where
            )
