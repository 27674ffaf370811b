"""Build the snippets of one page (or named snippet files) from the shell.

    python -m infralens docs/tracks/diffsynth/labs/lab-07-vae-encode-decode.md
    python -m infralens snippets/diffsynth/lab07_vae_encode_decode/03_encode.py
    python -m infralens --fresh PAGE_OR_SNIPPET ...   # ignore the cache
    python -m infralens --markdown OUT.md PAGE        # the page, expanded

Uses the same settings (from mkdocs.yml), engine and cache as
``mkdocs build``, and runs only the snippets the named pages use, in
parallel; prints each snippet's output, or its error with file and line,
and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from infralens.engine import library, settings, site


def project_root() -> Path:
    """The project in the working directory (where mkdocs.yml is), else
    the checkout this package belongs to."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "mkdocs.yml").is_file():
            return folder
    return Path(__file__).resolve().parent.parent


ROOT = project_root()


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
    ap.add_argument(
        "--markdown",
        metavar="OUT",
        help="write the (single) page with its directives expanded to OUT",
    )
    args = ap.parse_args(argv)
    opts = settings.load(ROOT)
    if args.fresh:
        opts = settings.Settings.from_options(
            {**opts.__dict__, "cache_dir": ".cache/infralens-fresh"}
        )
        shutil.rmtree(ROOT / opts.cache_dir, ignore_errors=True)
    pages, snippets = [], []
    for arg in args.targets:
        path = Path(arg).resolve()
        if not path.is_file() or not path.is_relative_to(ROOT):
            raise SystemExit(f"no such file in this project: {arg}")
        rel = path.relative_to(ROOT).as_posix()
        if path.suffix == ".md":
            pages.append((rel, path.read_text(encoding="utf-8")))
        else:
            snippets.append(rel)
    quotes = library.Library(ROOT / opts.cache_dir / "library.json")
    plan = site.plan(ROOT, opts.snippets_dir, pages, quotes, whole_site=False)
    wanted = snippets + [r.snippet for r in plan.requests]
    try:
        with opts.engine(ROOT) as engine:
            results, errors = engine.run_all(wanted)
        errors = plan.errors + errors
        for rel, res in results.items():
            state = "cached" if res.cached else "ran"
            print(f"== {rel} ({state}, {res.seconds:.2f} s)")
            print("".join(res.chunks), end="")
            for im in res.images:
                print(f"[image {im.name}: {im.path}]")
        for exc in errors:
            print(f"FAILED {exc}\n{exc.detail}", file=sys.stderr)
        if args.markdown and not errors:
            if len(pages) != 1:
                raise SystemExit("--markdown needs exactly one page")
            page_path, text = pages[0]
            published = site.publish(
                ROOT,
                opts.snippets_dir,
                ROOT / opts.cache_dir / "generated",
                results,
                plan.directives,
                lambda p: p.partition("/")[2],
            )
            uri = page_path.partition("/")[2]
            body, literals = site.render_page(
                page_path,
                text,
                opts.snippets_dir,
                None,
                results,
                published,
                plan.quotes,
                uri,
                uri,
                lambda p: site.include_text(ROOT, p, False),
            )
            out = body  # Markdown: the printed text goes in as it is
            for token, text in literals.texts.items():
                out = out.replace(token, text)
            Path(args.markdown).write_text(out, encoding="utf-8")
            print(f"wrote {args.markdown}")
    finally:
        if args.fresh:
            shutil.rmtree(ROOT / opts.cache_dir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
