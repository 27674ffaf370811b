"""Lab 03: its page keeps the standard anatomy, its snippets run, and
every value its page and handbook section quote was glued by a run."""

from __future__ import annotations

from pathlib import Path

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-03-latent-shape-tracking.md"
SECTION = ROOT / "docs/tracks/diffsynth/handbook/latent-shape-tracking.md"
SNIPPETS = sorted(
    (ROOT / "snippets/diffsynth/lab03_latent_shape_tracking").glob("*.py")
)


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)
