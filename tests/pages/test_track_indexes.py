"""The DiffSynth track's three index pages (track, labs, handbook) list
every lab page there is, in numeric order, each once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRACK = ROOT / "docs/tracks/diffsynth"
LABS = sorted(
    int(m.group(1))
    for p in (TRACK / "labs").glob("lab-*.md")
    if (m := re.match(r"lab-(\d+)-", p.name))
)


@pytest.mark.parametrize(
    "index", ["index.md", "labs/index.md", "handbook/index.md"]
)
def test_index_lists_every_lab_in_order(index):
    text = (TRACK / index).read_text(encoding="utf-8")
    listed = [int(n) for n in re.findall(r"\[Lab (\d+)\]?[:\]]", text)]
    assert LABS, "no lab pages found"
    assert listed == sorted(set(listed)) == LABS
