"""Benchmark the site build and the test suite; print the ratios.

Usage: python scripts/benchmark_build.py [--runs N] [--test-runs N]
       python scripts/benchmark_build.py --serve-only [--runs N]

Works in scratch copies of the repository (tracked and untracked files),
so the working cache is left alone. Measured in one run, on one machine
(absolute seconds differ between machines; the ratios are the targets):

- serial cold build: the copy's mkdocs.yml set to ``jobs: 1``, empty cache
- parallel cold build: the default (one worker per core), empty cache;
  every snippet's printed text, glued values and images must be
  byte-identical to the serial build's (snippets that measure time or
  memory excepted), which also shows that two runs agree
- warm build: nothing changed since the previous build
- prose edit: one sentence appended to a handbook page
- serve: with `mkdocs serve` running, time from saving a prose edit until
  it is on screen in a Chromium tab showing the page (MkDocs's live-reload
  script reloads it); without Chromium, until the served page contains it
- one page: ``python -m infralens PAGE`` from an empty cache
- the full test suite (pytest) from an empty cache, browser tests included

With ``--serve-only`` only the two serve rows are measured, in a copy that
takes the working snippet cache along (one warm build first), which takes
a minute rather than the whole benchmark's time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infralens import sitecheck  # noqa: E402
from infralens.devtools import copy_repo, fetch, free_port  # noqa: E402
from infralens.engine.cache import Cache  # noqa: E402
from infralens.engine.settings import load  # noqa: E402

# Snippets that measure the machine: the seconds or resident bytes they
# print, glue and plot differ from run to run by design, and their pages
# say so; their lab tests check what in them is deterministic.
MEASURED = {
    "snippets/diffsynth/lab04_scheduler_loop_reading/05_latency.py",
    "snippets/diffsynth/lab10_end_to_end_inference_trace/"
    "end_to_end_inference_trace.py",
    "snippets/diffsynth/lab02_model_loading_path/01_trace_load.py",
    "snippets/diffsynth/lab02_model_loading_path/04_meta_init.py",
    "snippets/diffsynth/lab02_model_loading_path/model_loading_path.py",
    "snippets/diffsynth/lab07_vae_encode_decode/09_memory.py",
    "snippets/diffsynth/lab06_video_latent_frame_dimension/"
    "05_memory_measured.py",
}
ONE_PAGE = "docs/tracks/diffsynth/labs/lab-01-pipeline-config-reading.md"
HANDBOOK = "docs/tracks/diffsynth/handbook/vae-encode-decode.md"
HANDBOOK_URL = "tracks/diffsynth/handbook/vae-encode-decode/"
LAB = "tracks/diffsynth/labs/lab-07-vae-encode-decode"
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1")
ENGINE_LINE = re.compile(
    r"snippet engine: (\d+) ran \(([\d.]+) s of snippet time\), (\d+) "
    r"cached; engine wall time ([\d.]+) s"
)


def busy_seconds() -> float:
    """Core-seconds the whole machine has spent running work since it
    started (Linux's /proc/stat: user, nice, system, irq and softirq time;
    not idle, iowait or time stolen by a hypervisor; NaN elsewhere). The
    difference over a run counts every process, browsers and workers
    included, and anything else the machine ran meanwhile."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = map(int, first[1:8])
    busy = user + nice + system + irq + softirq
    return busy / os.sysconf("SC_CLK_TCK")


def timed(
    repo: Path, *args: str, env=None
) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``python -m ARGS`` in ``repo``: the process, its seconds and
    the machine's busy core-seconds meanwhile."""
    t0, b0 = time.perf_counter(), busy_seconds()
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo,
        env=env or ENV,
        capture_output=True,
        text=True,
    )
    return proc, time.perf_counter() - t0, busy_seconds() - b0


def set_jobs(repo: Path, jobs: int) -> None:
    """Set the engine's ``jobs`` option in the copy's mkdocs.yml."""
    path = repo / "mkdocs.yml"
    text = re.sub(r"\n      jobs: \d+", "", path.read_text())
    text = text.replace(
        "  - infralens:\n", f"  - infralens:\n      jobs: {jobs}\n", 1
    )
    path.write_text(text)
    assert load(repo).jobs == jobs


def outputs(repo: Path) -> dict[str, tuple]:
    """Every cached snippet's printed text, glued values and image bytes
    (hashes), by snippet path."""
    opts = load(repo)
    cache = Cache(repo, repo / opts.cache_dir)
    found = {}
    for p in sorted((repo / opts.snippets_dir).rglob("*.py")):
        rel = p.relative_to(repo).as_posix()
        entry = cache.stored(rel)
        if entry is not None:
            found[rel] = (entry.chunks, entry.glue, entry.images)
    return found


def cold(repo: Path) -> dict:
    shutil.rmtree(repo / ".cache", ignore_errors=True)
    shutil.rmtree(repo / "site", ignore_errors=True)
    return build(repo)


def build(repo: Path) -> dict:
    proc, seconds, busy = timed(repo, "mkdocs", "build")
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr[-3000:]}")
    m = ENGINE_LINE.search(proc.stderr)
    return {
        "seconds": seconds,
        "busy": busy,
        "ran": int(m.group(1)),
        "snippet_s": float(m.group(2)),
        "cached": int(m.group(3)),
        "engine_s": float(m.group(4)),
    }


# Runs in every page the benchmark's tab loads: at each frame the page
# draws, it looks for the sentence the benchmark is waiting for and notes
# the clock time of the first frame that has it.
SHOWN = """(() => {
  const token = sessionStorage.getItem('benchmarkToken');
  if (!token) return;
  const look = () => {
    if (document.body && document.body.textContent.includes(token)) {
      window.benchmarkShown = performance.timeOrigin + performance.now();
    } else {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
})();"""


def serve_edits(repo: Path, runs: int, *extra: str) -> tuple[list[float], str]:
    """Seconds from saving a prose edit until it is on screen: in a
    Chromium tab showing the page (reloaded by MkDocs's live-reload
    script), or, without Chromium, in the page the server returns."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/{HANDBOOK_URL}"
    log = open(repo / "serve.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "serve",
            *extra,
            "-a",
            f"127.0.0.1:{port}",
        ],
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
        with contextlib.ExitStack() as stack:
            tab = None
            if sitecheck.CHROMIUM is not None:
                browser = stack.enter_context(sitecheck.chromium())
                tab = browser.new_page()
                tab.add_init_script(SHOWN)
                tab.goto(url, wait_until="load")
            page = repo / HANDBOOK
            for i in range(runs):
                token = f"Serve benchmark sentence {i} {time.time_ns()}."
                time.sleep(1.0)  # let the watcher settle after the last build
                if tab is not None:
                    tab.evaluate(
                        "t => { sessionStorage.setItem('benchmarkToken', t);"
                        " window.benchmarkShown = undefined; }",
                        token,
                    )
                t0, wall0 = time.perf_counter(), time.time()
                page.write_text(page.read_text() + f"\n{token}\n")
                if tab is not None:
                    shown_ms = tab.wait_for_function(
                        "() => window.benchmarkShown", timeout=60_000
                    ).json_value()
                    times.append(shown_ms / 1000 - wall0)
                    continue
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


def serve_rows(repo: Path, runs: int) -> dict:
    """Prose edits under plain `mkdocs serve` and under `mkdocs serve
    --dirty --no-strict`: the seconds of each, and the snippet runs the
    two sessions logged."""
    serve, serve_log = serve_edits(repo, runs)
    dirty, dirty_log = serve_edits(repo, runs, "--dirty", "--no-strict")
    return {
        "browser": sitecheck.CHROMIUM is not None,
        "serve": serve,
        "dirty": dirty,
        "runs": serve_log.count("(ran)") + dirty_log.count("(ran)"),
    }


def print_serve_rows(s: dict) -> None:
    how = "in Chromium" if s["browser"] else "in the served HTML"
    print(row(f"serve: prose edit on screen ({how})", s["serve"]))
    print(
        row(
            f"serve --dirty --no-strict: prose edit on screen ({how})",
            s["dirty"],
        )
    )


def print_serve_ratios(s: dict) -> None:
    print(
        "serve: prose edit on screen, median "
        f"{statistics.median(s['serve']):.2f} s, with --dirty --no-strict "
        f"{statistics.median(s['dirty']):.2f} s (target <= 1 s)"
    )
    print(f"snippet runs during serve edits: {s['runs']} (target 0)")


def serve_only(runs: int) -> None:
    """Measure only the serve rows, in a copy with the warm cache."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_repo(repo, with_cache=True)
        warm = build(repo)
        serve = serve_rows(repo, runs)
    print("| measurement | runs | median s | min s | max s |")
    print("|---|---|---|---|---|")
    print_serve_rows(serve)
    print()
    print(
        f"warm build first: {warm['ran']} snippets ran, {warm['cached']} "
        f"cached, {warm['seconds']:.2f} s"
    )
    print_serve_ratios(serve)


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
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--test-runs", type=int, default=1)
    ap.add_argument(
        "--serve-only",
        action="store_true",
        help="measure only the two serve rows, from the warm cache",
    )
    args = ap.parse_args(argv)
    if args.serve_only:
        serve_only(max(args.runs, 3))
        return

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_repo(repo)
        if (ROOT / "node_modules").is_dir():  # axe-core, for the browser tests
            (repo / "node_modules").symlink_to(ROOT / "node_modules")
        serial, parallel, warm, prose = [], [], [], []
        original = (repo / HANDBOOK).read_text()
        for _ in range(args.runs):
            set_jobs(repo, 1)
            serial.append(cold(repo))
            serial_out = outputs(repo)
            set_jobs(repo, 0)
            parallel.append(cold(repo))
            parallel_out = outputs(repo)
            warm.append(build(repo))
            page = repo / HANDBOOK
            page.write_text(page.read_text() + "\nOne more sentence.\n")
            prose.append(build(repo))
        assert all(b["ran"] == 0 for b in warm + prose), "cache missed"
        assert serial_out.keys() == parallel_out.keys()
        differ = sorted(
            rel
            for rel in serial_out
            if rel not in MEASURED and serial_out[rel] != parallel_out[rel]
        )
        weight = page_weight(repo / "site")
        serve = serve_rows(repo, max(args.runs, 3))
        (repo / HANDBOOK).write_text(original)
        (repo / "serve.log").unlink()
        entry = Cache(repo, repo / load(repo).cache_dir).stored(
            "snippets/diffsynth/lab07_vae_encode_decode/09_memory.py"
        )
        memory_s = entry.seconds if entry else float("nan")

        # one page from an empty cache
        shutil.rmtree(repo / ".cache", ignore_errors=True)
        proc, one_page_s, _ = timed(repo, "infralens", ONE_PAGE)
        if proc.returncode != 0:
            sys.exit(f"one-page build failed:\n{proc.stderr[-3000:]}")
        one_page_ran = proc.stdout.count("(ran,")

        tests, tests_busy = [], []
        test_env = dict(ENV, INFRALENS_REQUIRE_BROWSER="1")
        for _ in range(args.test_runs):
            shutil.rmtree(repo / ".cache", ignore_errors=True)
            proc, seconds, busy = timed(
                repo, "pytest", "-q", "-p", "no:cacheprovider", env=test_env
            )
            tests.append(seconds)
            tests_busy.append(busy)
            summary = proc.stdout.strip().splitlines()[-1]
            failed = [
                ln
                for ln in proc.stdout.splitlines()
                if ln.startswith(("FAILED", "ERROR"))
            ]

    last_s, last_p = serial[-1], parallel[-1]
    print("| measurement | runs | median s | min s | max s |")
    print("|---|---|---|---|---|")
    print(row("cold build, one worker", [b["seconds"] for b in serial]))
    print(
        row("cold build, parallel workers", [b["seconds"] for b in parallel])
    )
    print(row("warm build (nothing changed)", [b["seconds"] for b in warm]))
    print(row("prose-edit build", [b["seconds"] for b in prose]))
    print_serve_rows(serve)
    print(row("one page from an empty cache", [one_page_s]))
    print(row("pytest from an empty cache", tests))
    print()
    print(
        f"cold builds: {last_p['ran']} snippets ran, snippet time "
        f"{last_p['snippet_s']:.2f} s (parallel) / {last_s['snippet_s']:.2f}"
        f" s (serial); 09_memory.py {memory_s:.2f} s"
    )
    print(
        "ratio parallel / serial cold build: "
        f"{last_p['seconds'] / last_s['seconds']:.3f} (target <= 0.75)"
    )
    print(
        "ratio warm / cold build: "
        f"{warm[-1]['seconds'] / last_p['seconds']:.3f} (target <= 0.05)"
    )
    print(
        "ratio pytest from empty cache / cold build: "
        f"{tests[-1] / last_p['seconds']:.3f} (target <= 1.5)"
    )
    cores = os.cpu_count() or 1
    print(
        f"busy core-seconds, whole machine ({cores} cores): cold build "
        f"{last_p['busy']:.0f} (parallel), pytest from empty cache "
        f"{tests_busy[-1]:.0f}; 1.5 x the cold build's seconds on "
        f"{cores} cores is {1.5 * last_p['seconds'] * cores:.0f}"
    )
    print(
        f"one page: {one_page_ran} snippets ran, "
        f"{one_page_s / last_p['seconds']:.3f} of the cold build"
    )
    print(
        "outputs identical, parallel vs serial: "
        + ("yes" if not differ else "NO: " + ", ".join(differ))
        + f" ({len(serial_out) - len(MEASURED)} snippets compared, "
        f"{len(MEASURED)} measuring ones left out)"
    )
    print_serve_ratios(serve)
    print(f"lab page weight: {weight:,} bytes")
    print(f"test suite: {summary}")
    for line in failed:
        print(line)
    if differ or failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
