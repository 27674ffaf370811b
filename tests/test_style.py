"""The repository passes the checks its pre-commit hooks run."""

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
