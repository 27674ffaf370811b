"""Scaffold a new lab that builds and passes its tests before any content.

Usage:
    python scripts/new_lab.py NUMBER "Title" [--track diffsynth]
        [--section handbook-section-slug] [--minutes 45]

Creates, for lab 8 titled "Scheduler Step" in the diffsynth track:

    docs/tracks/diffsynth/labs/lab-08-scheduler-step.md   the page
    snippets/diffsynth/lab08_scheduler_step/01_first_look.py
    snippets/diffsynth/lab08_scheduler_step/scheduler_step.py  (starter)
    tests/pages/test_lab08_scheduler_step.py

and adds the lab (and its starter notebook) to mkdocs.yml's nav and a row
to the track's labs index. Refuses to overwrite anything that exists.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGE = """\
---
snippets: {track}/{folder}
---

# Lab {nn}: {title}

**Kind:** annotated code reading; every line runs ·
**Time:** about {minutes} minutes ·
**Handbook:** {handbook}

## Concept goal

State in one sentence what the reader will be able to trace or explain.

## Mental model

- The mechanism to keep in mind, one bullet per idea, each backed by a
  snippet below or a cited primary source.

## Annotated code

{{{{ notebook {starter}.py }}}}

{{{{ code {starter}.py }}}}

1. What this line does and why it matters.

## Line-by-line explanation

{{{{ output {starter}.py }}}}

A first executed example:

{{{{ run 01_first_look.py }}}}

## What to notice

- Reading checkpoints, each pointing at an output on this page.

## Common misunderstandings

- Each trap shown failing for real in a snippet.

## Try it

| Knob | Change | Predict first |
|---|---|---|
| A value in the starter | What to change it to | What will move |

## Interview explanation

> Name the state object, the shape or axis it changes, and the trade-off.

## Intuition notes

- Pictures that help, with primary sources for the facts.

## Further reading

- Primary sources: library source files, papers, model cards.
"""

FIRST_SNIPPET = '''\
"""A first look at the lab's subject: replace with the lab's own code."""
from infralens import glue
from infralens.small_vae import load

vae = load()  # the shipped small VAE, no network
factor = 2 ** (len(vae.config.block_out_channels) - 1)
print("spatial factor:", factor)

assert factor == 8
glue("factor", factor)
'''

STARTER = """\
# %% [markdown]
# # Lab {nn} starter: {title}
#
# A runnable starting point; its outputs on the site come from the build.

# %%
from infralens.small_vae import MODEL_DIR, load

VAE_SOURCE = MODEL_DIR  # (1)!
vae = load()
print("latent channels:", vae.config.latent_channels)
"""

TEST = '''\
"""Lab {nn}: its page keeps the standard anatomy and its snippets run."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.labs import missing_sections

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "docs/tracks/{track}/labs"
PAGE = LABS / "{page_slug}.md"
SNIPPETS = sorted(
    (ROOT / "snippets/{track}/{folder}").glob("*.py")
)


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_ran_clean(site_results, path):
    # the session's site build ran it; this reads that result
    result = site_results.result(path.relative_to(ROOT).as_posix())
    assert "Traceback" not in "".join(result.chunks)
'''


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def insert_nav(mkdocs: str, track: str, lab_line: str, nb_line: str) -> str:
    """Add the lab after the last lab entry of the track's Labs section."""
    lines = mkdocs.splitlines()
    index = f"tracks/{track}/labs/index.md"
    try:
        start = next(
            i for i, ln in enumerate(lines) if ln.strip() == f"- {index}"
        )
    except StopIteration:
        sys.exit(f"mkdocs.yml: no nav entry '{index}' to add the lab under")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = start + 1
    while end < len(lines) and lines[end].startswith(indent + "- "):
        end += 1
    lines[end:end] = [indent + lab_line, indent + nb_line]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("number", type=int)
    ap.add_argument("title")
    ap.add_argument("--track", default="diffsynth")
    ap.add_argument("--section", help="slug of the paired handbook section")
    ap.add_argument("--minutes", type=int, default=45)
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)

    root, track = args.root, args.track
    nn, slug = f"{args.number:02d}", slugify(args.title)
    page_slug = f"lab-{nn}-{slug}"
    folder = f"lab{nn}_{slug.replace('-', '_')}"
    starter = slug.replace("-", "_")
    track_docs = root / "docs" / "tracks" / track
    if not (track_docs / "labs" / "index.md").is_file():
        print(
            f"error: track '{track}' has no labs index at "
            f"{track_docs / 'labs' / 'index.md'}",
            file=sys.stderr,
        )
        return 2
    if args.section:
        if not (track_docs / "handbook" / f"{args.section}.md").is_file():
            print(
                f"error: no handbook section '{args.section}'", file=sys.stderr
            )
            return 2
        handbook = f"[{args.title}](../handbook/{args.section}.md)"
    else:
        handbook = "[Handbook](../handbook/index.md)"

    targets = {
        track_docs / "labs" / f"{page_slug}.md": PAGE.format(
            track=track,
            folder=folder,
            nn=nn,
            title=args.title,
            minutes=args.minutes,
            handbook=handbook,
            starter=starter,
        ),
        root / "snippets" / track / folder / "01_first_look.py": FIRST_SNIPPET,
        root / "snippets" / track / folder / f"{starter}.py": STARTER.format(
            nn=nn, title=args.title
        ),
        root / "tests" / "pages" / f"test_lab{nn}_{starter}.py": TEST.format(
            nn=nn,
            track=track,
            folder=folder,
            page_slug=page_slug,
        ),
    }
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        print(
            "error: refusing to overwrite: " + ", ".join(existing),
            file=sys.stderr,
        )
        return 2

    mkdocs_path = root / "mkdocs.yml"
    nav_page = f"tracks/{track}/labs/{page_slug}.md"
    nav_nb = f"tracks/{track}/labs/{page_slug}/{starter}.ipynb"
    mkdocs = insert_nav(
        mkdocs_path.read_text(),
        track,
        f'- "Lab {nn}: {args.title}": {nav_page}',
        f'- "Lab {nn} starter notebook": {nav_nb}',
    )

    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    mkdocs_path.write_text(mkdocs)
    index = track_docs / "labs" / "index.md"
    index.write_text(
        index.read_text().rstrip("\n")
        + "\n"
        + (
            f"| [Lab {nn}: {args.title}]({page_slug}.md) | Annotated code "
            f"reading with a runnable starter | {args.minutes} min | "
            f"{handbook} |\n"
        )
    )
    for path in [*targets, mkdocs_path, index]:
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
