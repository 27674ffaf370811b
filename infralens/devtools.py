"""Helpers shared by the benchmark scripts and the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

from infralens.engine.settings import load

ROOT = Path(__file__).resolve().parent.parent


# Skipped when the tree is not a git checkout (a copy made by copy_repo).
UNTRACKED = {
    ".git",
    ".cache",
    ".pytest_cache",
    "__pycache__",
    "_output",
    "build",
    "site",
    "test-artifacts",
}


def _working_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0:
        return listed.stdout.splitlines()
    return [
        p.relative_to(ROOT).as_posix()
        for p in sorted(ROOT.rglob("*"))
        if (p.is_file() or p.is_symlink())
        and not any(
            part in UNTRACKED or part.endswith(".egg-info")
            for part in p.relative_to(ROOT).parts
        )
    ]


def copy_repo(dest: Path, with_cache: bool = False) -> None:
    """Copy the working tree (tracked and untracked, not ignored files) to
    ``dest``; with ``with_cache`` also the snippet cache, so that only
    snippets whose inputs differ run again there."""
    files = _working_files()
    for rel in files:
        src, dst = ROOT / rel, dest / rel
        if src.is_symlink():  # e.g. models/tiny-sd/vae -> ../small-vae
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(os.readlink(src), src.is_dir())
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    folder = load(ROOT).cache_dir  # the snippet cache, as mkdocs.yml sets it
    if with_cache and (ROOT / folder).is_dir():
        shutil.copytree(ROOT / folder, dest / folder)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 2) -> str | None:
    """The text at ``url``, or None when it cannot be had (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except OSError:
        return None
