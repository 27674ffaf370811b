"""The repository passes the checks its pre-commit hooks run, and git
holds no file that a build or a run generates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["codespell"],
    ],
)
def test_repository_passes(command):
    if shutil.which(command[0]) is None:
        pytest.skip(
            f"{command[0]} is not installed (pip install -r requirements.txt)"
        )
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_generated_file_is_tracked():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    generated = [p for p in tracked if "_output/" in p or "/site/" in p]
    assert not generated, f"generated files in git: {generated}"
