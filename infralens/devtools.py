"""Helpers shared by the benchmark scripts and the tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_repo(dest: Path, with_cache: bool = False) -> None:
    """Copy the working tree (tracked and untracked, not ignored files) to
    ``dest``; with ``with_cache`` also the snippet cache, so that only
    snippets whose inputs differ run again there."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for rel in files:
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    cache = ROOT / ".cache" / "infralens"
    if with_cache and cache.is_dir():
        shutil.copytree(cache, dest / ".cache" / "infralens")
