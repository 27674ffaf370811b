"""Zensical, which runs no MkDocs plugin, shows the executed outputs too:
the engine's Markdown extension expands the directives from the cache the
session's MkDocs build filled."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from conftest import ENV

from infralens.devtools import copy_repo
from infralens.engine import scan

ROOT = Path(__file__).resolve().parent.parent
LAB = "tracks/diffsynth/labs/lab-05-conditioning-flow"
SOURCE = ROOT / "docs" / (LAB + ".md")


def zensical_build(project: Path) -> subprocess.CompletedProcess:
    """`zensical build` in ``project``, with this checkout's engine."""
    if shutil.which("zensical") is None:
        pytest.fail("zensical is not installed (see requirements.txt)")
    return subprocess.run(
        ["zensical", "build"],
        cwd=project,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory, site_results):
    # a copy of the repository with the session build's snippet cache
    # (and none of Zensical's own)
    repo = tmp_path_factory.mktemp("zensical") / "repo"
    copy_repo(repo, with_cache=True)
    proc = zensical_build(repo)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return repo / "site"


def test_lab_page_shows_outputs_not_directives(zensical_site, site_results):
    html = (zensical_site / LAB / "index.html").read_text(encoding="utf-8")
    assert "{{" not in re.sub(r"<code[^>]*>.*?</code>", "", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", "", html))
    runs = [
        d
        for d in scan.scan(
            SOURCE.relative_to(ROOT).as_posix(), SOURCE.read_text("utf-8")
        )
        if d.verb == "run"
    ]
    assert runs
    for d in runs:  # every output the page runs is on it
        printed = site_results.result(d.snippet).output(d.region)
        for line in printed.strip().splitlines():
            assert line.strip() in text, (d.snippet, d.region, line)


def test_lab_page_images_are_published(zensical_site):
    page = zensical_site / LAB
    html = (page / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]* src="([^"]+\.png)"', html)
    assert sources
    for src in sources:
        assert (page / src).resolve().is_file(), src


def test_a_failing_snippet_stops_a_zensical_build(tmp_path):
    # a small project of its own: the failure needs no copy of this site
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Toy\nplugins:\n  - infralens:\n      preload: []\n"
        "markdown_extensions:\n  - infralens.extension\n"
    )
    (tmp_path / "snippets/ok.py").write_text("print('fine')\n")
    (tmp_path / "docs/index.md").write_text(
        "---\nsnippets: .\n---\n# Toy\n\n{{ run ok.py }}\n\n"
        "{{ run no_such_file.py }}\n"
    )
    proc = zensical_build(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "docs/index.md:8: snippet file not found" in out, out[-3000:]
    assert not (tmp_path / "site/index.html").exists()


def test_zensical_keeps_a_page_until_clean(tmp_path):
    # what CONTRIBUTING says of Zensical: it keeps a page's rendering while
    # the page's Markdown is unchanged, and --clean empties .cache/ (the
    # snippet cache too). If Zensical learns to see snippet changes, this
    # fails, and the guide should say so.
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Toy\nplugins:\n  - infralens:\n      preload: []\n"
        "markdown_extensions:\n  - infralens.extension\n"
    )
    snippet = tmp_path / "snippets/s.py"
    snippet.parent.mkdir()
    snippet.write_text("print('first output')\n")
    (tmp_path / "docs/index.md").write_text(
        "---\nsnippets: .\n---\n# Toy\n\n{{ run s.py }}\n"
    )
    page = tmp_path / "site/index.html"
    assert zensical_build(tmp_path).returncode == 0
    assert "first output" in page.read_text()
    snippet.write_text("print('second output')\n")
    assert zensical_build(tmp_path).returncode == 0
    assert "first output" in page.read_text()  # the kept rendering
    marker = tmp_path / ".cache/infralens/marker"
    marker.write_text("made before --clean")
    proc = subprocess.run(
        ["zensical", "build", "--clean"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "second output" in page.read_text()
    assert not marker.exists()  # the snippet cache was emptied too
