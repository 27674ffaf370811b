"""Pages and snippets refer to each other completely, in both directions."""

from __future__ import annotations

from pathlib import Path

from infralens.engine import scan

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"


def page_references() -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    for md in sorted(DOCS.rglob("*.md")):
        rel = md.relative_to(ROOT).as_posix()
        for d in scan.scan(rel, md.read_text(encoding="utf-8")):
            if not d.names_snippet:
                continue
            refs.setdefault(d.snippet, []).append(f"{rel}:{d.line}")
    return refs


def snippet_files() -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in SNIPPETS.rglob("*.py")
        if "__pycache__" not in p.parts and not p.name.startswith("_")
    }


def test_every_referenced_snippet_exists():
    missing = {
        s: where
        for s, where in page_references().items()
        if not (ROOT / s).is_file()
    }
    assert not missing, f"pages reference missing snippets: {missing}"


def test_every_snippet_is_referenced_by_a_page():
    orphans = snippet_files() - set(page_references())
    assert not orphans, f"snippets no page embeds: {sorted(orphans)}"


def test_every_region_a_page_names_exists():
    from infralens.engine.source import parse

    for md in sorted(DOCS.rglob("*.md")):
        rel = md.relative_to(ROOT).as_posix()
        for d in scan.scan(rel, md.read_text(encoding="utf-8")):
            if d.region:
                regions = parse(ROOT / d.snippet).regions
                assert d.region in regions, f"{rel}:{d.line}: {d.region}"


def test_snippet_lines_fit_a_phone():
    long = [
        f"{p}:{i}"
        for p in sorted(snippet_files())
        for i, line in enumerate((ROOT / p).read_text().splitlines(), 1)
        if len(line) > 79
    ]
    assert not long, f"lines over 79 characters: {long}"
