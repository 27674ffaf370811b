"""Run the snippets of one page (or named snippet files) from the shell.

    python -m infralens docs/tracks/diffsynth/labs/lab-07-vae-encode-decode.md
    python -m infralens snippets/diffsynth/lab07_vae_encode_decode/03_encode.py
    python -m infralens --fresh PAGE_OR_SNIPPET ...   # ignore the cache

Uses the same engine and cache as ``mkdocs build``; prints each snippet's
output, or its error with file and line, and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from infralens.engine import pages
from infralens.engine.runner import Engine, shutdown_workers
from infralens.engine.source import SnippetError

ROOT = Path(__file__).resolve().parent.parent


def snippets_of(arg: str) -> list[str]:
    path = Path(arg).resolve()
    if not path.is_file():
        raise SystemExit(f"no such file: {arg}")
    rel = path.relative_to(ROOT).as_posix()
    if path.suffix == ".md":
        found = pages.scan(rel, path.read_text(encoding="utf-8"))
        return sorted({d.snippet for d in found if d.names_snippet})
    return [rel]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m infralens", description=__doc__.splitlines()[0]
    )
    ap.add_argument("targets", nargs="+", help="page (.md) or snippet (.py)")
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="use a throwaway cache so every snippet runs",
    )
    args = ap.parse_args(argv)
    cache = ROOT / ".cache" / "infralens"
    if args.fresh:
        cache = ROOT / ".cache" / "infralens-fresh"
        shutil.rmtree(cache, ignore_errors=True)
    engine = Engine(root=ROOT, cache_dir=cache)
    failed = 0
    try:
        for rel in [s for t in args.targets for s in snippets_of(t)]:
            try:
                res = engine.result(rel)
            except SnippetError as exc:
                failed += 1
                print(f"FAILED {exc}\n{exc.detail}", file=sys.stderr)
                continue
            state = "cached" if res.cached else "ran"
            print(f"== {rel} ({state}, {res.seconds:.2f} s)")
            print("".join(res.chunks), end="")
            for im in res.images:
                print(f"[image {im['name']}: {im['path']}]")
    finally:
        shutdown_workers()
        if args.fresh:
            shutil.rmtree(cache, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
