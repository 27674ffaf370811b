"""Lab 06: its page keeps the standard anatomy and its snippets run."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.engine.runner import Engine, shutdown_workers
from infralens.labs import missing_sections

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "docs/tracks/diffsynth/labs"
PAGE = LABS / "lab-06-video-latent-frame-dimension.md"
SNIPPETS = sorted(
    (ROOT / "snippets/diffsynth/lab06_video_latent_frame_dimension").glob("*.py")
)


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_runs(path):
    engine = Engine(root=ROOT, cache_dir=ROOT / ".cache/infralens")
    try:
        engine.result(path.relative_to(ROOT).as_posix())
    finally:
        shutdown_workers()
