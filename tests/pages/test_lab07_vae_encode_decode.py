"""Lab 07: its page keeps the standard anatomy, its snippets ran clean in
the session build and every value it quotes was glued by the run."""

from __future__ import annotations

from pathlib import Path

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-07-vae-encode-decode.md"
SNIPPETS = sorted(
    (ROOT / "snippets/diffsynth/lab07_vae_encode_decode").glob("*.py")
)


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)
