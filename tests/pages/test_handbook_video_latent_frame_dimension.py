"""Handbook section Video Latent / Frame Dimension: its snippets ran clean in
the session build, every value it quotes was glued by the run, and it sends
the reader to its lab, Lab 06."""

from __future__ import annotations

from pathlib import Path

from infralens.labs import check_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/tracks/diffsynth/handbook/video-latent-frame-dimension.md"
LAB = "../labs/lab-06-video-latent-frame-dimension.md"


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


def test_links_to_its_lab():
    assert f"]({LAB})" in PAGE.read_text(encoding="utf-8")
