"""Numbers CONTRIBUTING.md quotes from recorded runs match the records."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "scripts" / "results"


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """First-column label -> other cells, for every table under
    ``heading`` (up to the next heading)."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3:
            rows[cells[0]] = cells[1:]
    return rows


def number(cell: str) -> int:
    return int(re.sub(r"[^\d]", "", cell))


def test_accessibility_numbers_are_the_recorded_audits():
    before, after = (
        json.loads((RESULTS / f"site-audit-{w}.json").read_text())
        for w in ("before", "after")
    )
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    rows = table_rows(text, "Accessibility numbers")
    for rule in set(before["rules"]) | set(after["rules"]) | {"total"}:
        quoted = [number(c) for c in rows[rule]]
        recorded = [
            r["total"] if rule == "total" else r["rules"].get(rule, 0)
            for r in (before, after)
        ]
        assert quoted == recorded, rule
    for label, key in (
        ("first contentful paint", "first_contentful_paint_ms"),
        ("largest contentful paint", "largest_contentful_paint_ms"),
        ("bytes transferred", "transferred_bytes"),
        ("requests", "requests"),
    ):
        quoted = [number(c) for c in rows[label]]
        recorded = [r["phone_lab_page"][key] for r in (before, after)]
        assert quoted == recorded, label


def test_build_numbers_are_the_recorded_benchmark():
    # scripts/results/build-benchmark.txt is what benchmark_build.py
    # printed; CONTRIBUTING quotes it line for line
    recorded = (RESULTS / "build-benchmark.txt").read_text(encoding="utf-8")
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Build and test numbers", 1)[1]
    for line in recorded.splitlines():
        if line.strip():
            assert line in section, line
