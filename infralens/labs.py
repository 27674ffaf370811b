"""The standard anatomy of a lab page, shared by the scaffold and the
per-lab tests."""

from __future__ import annotations

from pathlib import Path

ANATOMY = (
    "Concept goal",
    "Mental model",
    "Annotated code",
    "Line-by-line explanation",
    "What to notice",
    "Common misunderstandings",
    "Try it",
    "Interview explanation",
    "Intuition notes",
    "Further reading",
)


def missing_sections(page: Path) -> list[str]:
    """The anatomy sections a lab page has no ``## `` heading for."""
    headings = {
        line[3:].strip()
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }
    return [name for name in ANATOMY if name not in headings]


def unglued_values(page: Path, root: Path, result) -> tuple[int, list[str]]:
    """How many ``{{ val FILE:NAME }}`` the page has, and ``page:line
    FILE:NAME`` for each whose snippet glued no such value. ``result``
    maps a snippet path (relative to ``root``) to its engine result."""
    from infralens.engine import scan

    rel = page.relative_to(root).as_posix()
    values = [
        d
        for d in scan.scan(rel, page.read_text(encoding="utf-8"))
        if d.verb == "val"
    ]
    missing = [
        f"{rel}:{d.line} {d.snippet}:{d.arg}"
        for d in values
        if d.arg not in result(d.snippet).glue
    ]
    return len(values), missing


def snippets_named(page: Path, root: Path) -> list[str]:
    """The snippet files a page's directives name (paths from ``root``)."""
    from infralens.engine import scan

    rel = page.relative_to(root).as_posix()
    found = scan.scan(rel, page.read_text(encoding="utf-8"))
    return sorted({d.snippet for d in found if d.names_snippet})


def check_page(page: Path, root: Path, results) -> None:
    """A page's common contract: every snippet it names ran clean (no
    traceback in its output) and every value it quotes was glued by the
    run. ``results`` is an engine (``.result(path)``)."""
    for rel in snippets_named(page, root):
        printed = "".join(results.result(rel).chunks)
        assert "Traceback (most recent call last)" not in printed, rel
    count, missing = unglued_values(page, root, results.result)
    assert not missing, missing


def unplaced_snippets(folder: Path, pages: list[Path], root: Path) -> list:
    """Snippet files in ``folder`` that none of ``pages`` names."""
    named = {s for page in pages for s in snippets_named(page, root)}
    return sorted(
        p.relative_to(root).as_posix()
        for p in folder.glob("*.py")
        if p.relative_to(root).as_posix() not in named
    )


def check_quotes(page: Path, root: Path) -> None:
    """Every installed-source quote and link on the page still finds its
    object, and its lines still hold their anchor text."""
    from infralens.engine import library, scan

    lib = library.Library()
    rel = page.relative_to(root).as_posix()
    for d in scan.scan(rel, page.read_text(encoding="utf-8")):
        if d.verb in ("source", "sourcelink"):
            lib.quote_span(d.snippet, d.span, d.anchor, (rel, d.line))
