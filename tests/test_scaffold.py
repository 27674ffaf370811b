"""The lab scaffold produces a lab that builds strict and passes its tests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from conftest import ENV

from infralens.devtools import copy_repo

ROOT = Path(__file__).resolve().parent.parent


def run(args, cwd):
    return subprocess.run(
        args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=1800
    )


def test_new_lab_builds_and_passes_its_tests(tmp_path, built_site):
    repo = tmp_path / "repo"
    copy_repo(repo, with_cache=True)
    started = time.perf_counter()
    made = run(
        [
            sys.executable,
            "scripts/new_lab.py",
            "11",
            "Scheduler Step",
            "--section",
            "vae-encode-decode",
        ],
        repo,
    )
    assert made.returncode == 0, made.stderr
    assert "tests/pages/test_lab11_scheduler_step.py" in made.stdout
    linted = run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "tests/pages/test_lab11_scheduler_step.py",
            "snippets/diffsynth/lab11_scheduler_step",
        ],
        repo,
    )
    assert linted.returncode == 0, linted.stdout

    built = run([sys.executable, "-m", "mkdocs", "build"], repo)
    assert built.returncode == 0, built.stderr[-4000:]
    site = repo / "site" / "tracks/diffsynth/labs/lab-11-scheduler-step"
    assert (site / "index.html").is_file()
    assert (site / "scheduler_step" / "index.html").is_file()
    labs = (repo / "site/tracks/diffsynth/labs/index.html").read_text()
    assert "lab-11-scheduler-step" in labs

    tested = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/pages/test_lab11_scheduler_step.py",
        ],
        repo,
    )
    assert tested.returncode == 0, tested.stdout[-3000:]
    print(
        f"scaffold to green build and tests: "
        f"{time.perf_counter() - started:.1f} s"
    )


def test_scaffold_refuses_to_overwrite(tmp_path):
    repo = tmp_path / "repo"
    copy_repo(repo)
    again = run(
        [sys.executable, "scripts/new_lab.py", "7", "VAE Encode Decode"], repo
    )
    assert again.returncode == 2
    assert "refusing to overwrite" in again.stderr
    assert "lab-07" in again.stderr


def test_scaffold_rejects_an_unknown_track(tmp_path):
    repo = tmp_path / "repo"
    copy_repo(repo)
    bad = run(
        [sys.executable, "scripts/new_lab.py", "9", "X", "--track", "nope"],
        repo,
    )
    assert bad.returncode == 2 and "no labs index" in bad.stderr
