"""Lab 07: its page keeps the standard anatomy and its snippets run."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.engine.runner import Engine, shutdown_workers

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-07-vae-encode-decode.md"
SNIPPETS = sorted(
    (ROOT / "snippets/diffsynth/lab07_vae_encode_decode").glob("*.py")
)
ANATOMY = [
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
]


def test_page_has_the_standard_anatomy():
    headings = [
        line[3:].strip()
        for line in PAGE.read_text().splitlines()
        if line.startswith("## ")
    ]
    for name in ANATOMY:
        assert name in headings, name


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_runs(path):
    engine = Engine(root=ROOT, cache_dir=ROOT / ".cache/infralens")
    try:
        engine.result(path.relative_to(ROOT).as_posix())
    finally:
        shutdown_workers()
