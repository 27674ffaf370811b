"""Links to library and paper code name a fixed version, on every page.

A link to ``blob/main`` shows whatever the branch says today, not what a
sentence was checked against, so it is not evidence. Every link to a file
on GitHub in the built site must name a tag or a commit, and a link into
the repository of a package the site installs must name the installed
version's ref: the one ``{{ source }}`` quotes from.
"""

from __future__ import annotations

import html
import importlib.metadata as metadata
import re

import pytest

from infralens.engine import library

HREF_RE = re.compile(r"""href=["']([^"']+)["']""")
DIFFUSERS = metadata.version("diffusers")


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://github.com/CompVis/latent-diffusion/blob/main/x.py", "main"),
        ("https://github.com/a/b/tree/master/docs", "master"),
        ("https://github.com/a/b/blob/dev-branch/x.py#L3", "dev-branch"),
        ("https://raw.githubusercontent.com/a/b/main/x.py", "main"),
        (
            "https://github.com/huggingface/diffusers/blob/v0.1.0/setup.py",
            f"diffusers {DIFFUSERS} is installed",
        ),
        (
            "https://github.com/huggingface/diffusers/blob/"
            "0123456789abcdef0123456789abcdef01234567/setup.py",
            f"whose files are at 'v{DIFFUSERS}'",
        ),
    ],
)
def test_moving_or_wrong_refs_are_named(url, problem):
    found = library.link_problem(url)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "url",
    [
        f"https://github.com/huggingface/diffusers/blob/v{DIFFUSERS}/a.py#L1",
        "https://github.com/CompVis/latent-diffusion/blob/"
        "a506df5756472e2ebaf9078affdde2c4f1502cd4/ldm/models/ddpm.py",
        "https://github.com/madebyollin/taesd/blob/v1.2.3/README.md",
        "https://github.com/huggingface/diffusers/issues/5924",
        "https://github.com/madebyollin/taesd",
    ],
)
def test_pinned_links_and_non_file_links_pass(url):
    assert library.link_problem(url) is None


def test_every_github_file_link_in_the_site_is_pinned(built_site):
    problems, checked = [], 0
    for page in sorted(built_site.rglob("*.html")):
        for url in HREF_RE.findall(page.read_text(encoding="utf-8")):
            url = html.unescape(url)
            if "github" not in url:
                continue
            checked += 1
            problem = library.link_problem(url)
            if problem:
                rel = page.relative_to(built_site)
                problems.append(f"{rel}: {url} {problem}")
    assert checked > 10  # the pages do link to library code
    assert not problems, "\n".join(problems)
