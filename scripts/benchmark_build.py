"""Benchmark the site build and the test suite; print a table of numbers.

Usage: python scripts/benchmark_build.py [--runs N] [--test-runs N]

Works in a scratch copy of the repository (tracked and untracked files), so
the working cache is left alone. Measures, each over several runs:

- cold build: snippet cache and site removed first
- warm build: nothing changed since the previous build
- prose edit: one sentence appended to the handbook page
- serve: with `mkdocs serve` running, time from saving a prose edit until
  the served page contains it
- the full test suite (pytest)

and, from the last cold run, the ratios warm / cold and engine wall time /
sum of the snippets' own run times, plus the lab page's weight.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infralens.devtools import copy_repo  # noqa: E402

HANDBOOK = "docs/tracks/diffsynth/handbook/vae-encode-decode.md"
HANDBOOK_URL = "tracks/diffsynth/handbook/vae-encode-decode/"
LAB = "tracks/diffsynth/labs/lab-07-vae-encode-decode"
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1")
ENGINE_LINE = re.compile(
    r"snippet engine: (\d+) ran \(([\d.]+) s of snippet time\), (\d+) "
    r"cached; engine wall time ([\d.]+) s"
)


def timed(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python -m ARGS`` in ``repo``; the process and its seconds."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo,
        env=ENV,
        capture_output=True,
        text=True,
    )
    return proc, time.perf_counter() - t0


def build(repo: Path) -> dict:
    proc, seconds = timed(repo, "mkdocs", "build")
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr[-3000:]}")
    m = ENGINE_LINE.search(proc.stderr)
    return {
        "seconds": seconds,
        "ran": int(m.group(1)),
        "snippet_s": float(m.group(2)),
        "cached": int(m.group(3)),
        "engine_s": float(m.group(4)),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode()
    except OSError:
        return None


def serve_edits(repo: Path, runs: int) -> tuple[list[float], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/{HANDBOOK_URL}"
    log = open(repo / "serve.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=repo,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    times = []
    try:
        deadline = time.time() + 600
        while fetch(url) is None:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit("mkdocs serve did not come up")
            time.sleep(0.2)
        page = repo / HANDBOOK
        for i in range(runs):
            token = f"Serve benchmark sentence {i} {time.time_ns()}."
            time.sleep(1.0)  # let the watcher settle after the last build
            t0 = time.perf_counter()
            page.write_text(page.read_text() + f"\n{token}\n")
            while token not in (fetch(url) or ""):
                if time.perf_counter() - t0 > 60:
                    sys.exit("edit never appeared on the served page")
                time.sleep(0.05)
            times.append(time.perf_counter() - t0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    return times, (repo / "serve.log").read_text()


def page_weight(site: Path) -> int:
    page = site / LAB
    html = (page / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"#?]+\.(?:png|css|js))"', html)
    files = {(page / r).resolve() for r in refs}
    return len(html.encode()) + sum(f.stat().st_size for f in files)


def row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {statistics.median(values):.2f} | "
        f"{min(values):.2f} | {max(values):.2f} |"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--test-runs", type=int, default=3)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_repo(repo)
        cold, warm, prose = [], [], []
        original = (repo / HANDBOOK).read_text()
        for _ in range(args.runs):
            shutil.rmtree(repo / ".cache", ignore_errors=True)
            shutil.rmtree(repo / "site", ignore_errors=True)
            cold.append(build(repo))
            warm.append(build(repo))
            page = repo / HANDBOOK
            page.write_text(page.read_text() + "\nOne more sentence.\n")
            prose.append(build(repo))
        assert all(b["ran"] == 0 for b in warm + prose), "cache missed"
        weight = page_weight(repo / "site")
        serve, serve_log = serve_edits(repo, args.runs)
        serve_runs = serve_log.count("(ran)")
        # the suite runs on the repository as committed, not the edits
        (repo / HANDBOOK).write_text(original)
        (repo / "serve.log").unlink()
        tests = []
        for _ in range(args.test_runs):
            proc, seconds = timed(repo, "pytest", "-q")
            tests.append(seconds)
            summary = proc.stdout.strip().splitlines()[-1]
            if proc.returncode != 0:
                failed = [
                    ln for ln in proc.stdout.splitlines() if "FAILED" in ln
                ]
                sys.exit("tests failed:\n" + "\n".join(failed + [summary]))

    last = cold[-1]
    print("| measurement | runs | median s | min s | max s |")
    print("|---|---|---|---|---|")
    print(row("cold build (empty cache)", [b["seconds"] for b in cold]))
    print(row("warm build (nothing changed)", [b["seconds"] for b in warm]))
    print(row("prose-edit build", [b["seconds"] for b in prose]))
    print(row("serve: prose edit on screen", serve))
    print(row("test suite (warm cache)", tests))
    print()
    print(
        f"last cold build: {last['ran']} snippets ran, snippet time "
        f"{last['snippet_s']:.2f} s, engine wall time {last['engine_s']:.2f}"
        f" s, whole build {last['seconds']:.2f} s"
    )
    print(
        f"ratio warm / cold (same run): "
        f"{warm[-1]['seconds'] / last['seconds']:.3f} (target <= 0.2)"
    )
    print(
        f"ratio engine wall / snippet time: "
        f"{last['engine_s'] / last['snippet_s']:.3f} (target <= 1.2)"
    )
    print(
        f"ratio whole cold build / snippet time: "
        f"{last['seconds'] / last['snippet_s']:.3f}"
    )
    print(f"snippet runs during serve edits: {serve_runs} (target 0)")
    print(f"lab page weight: {weight:,} bytes")
    print(f"test suite: {summary}")


if __name__ == "__main__":
    main()
