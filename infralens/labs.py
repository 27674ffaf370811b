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
