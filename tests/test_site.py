"""The built site: URLs, images, permalinks, notebook, offline, weight."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAB = "tracks/diffsynth/labs/lab-07-vae-encode-decode"
HANDBOOK = "tracks/diffsynth/handbook/vae-encode-decode"
NOTEBOOK = f"{LAB}/vae_encode_decode"
PAGES = [
    "",
    "tracks/diffsynth",
    "tracks/diffsynth/handbook",
    "tracks/diffsynth/labs",
    HANDBOOK,
    LAB,
    NOTEBOOK,
    "small-vae",
    "tiny-pipeline",
    "contributing",
]
# Lab page weight budget: HTML + images + CSS + JS it loads, in bytes.
LAB_PAGE_BUDGET = 1_500_000


def html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES)
def test_page_exists_at_its_url(built_site, page):
    assert (built_site / page / "index.html").is_file()


@pytest.mark.parametrize("page", [HANDBOOK, LAB, "tiny-pipeline"])
def test_every_image_is_a_served_file(built_site, page):
    text = html(built_site, page)
    srcs = re.findall(r'<img[^>]+src="([^"]+)"', text)
    assert srcs or page == LAB
    for src in srcs:
        path = (built_site / page / src).resolve()
        assert path.is_file() and path.stat().st_size > 0, src


@pytest.mark.parametrize("page", [HANDBOOK, LAB])
def test_every_heading_has_a_permalink(built_site, page):
    text = html(built_site, page)
    headings = re.findall(
        r"<h[2-4][^>]*id=\"([^\"]+)\"[^>]*>(.*?)</h[2-4]>", text, re.S
    )
    assert len(headings) >= 5
    for anchor, inner in headings:
        assert f'href="#{anchor}"' in inner, anchor


def test_no_page_shows_a_traceback(built_site):
    for page in built_site.rglob("*.html"):
        assert "Traceback (most recent call last)" not in page.read_text(), (
            page
        )


def test_nothing_is_loaded_from_another_host(built_site):
    remote = re.compile(
        r"""<(?:script|img|iframe|source|video|audio)[^>]+src=["']?(?:https?:)?//"""
        r"""|<link[^>]+rel=["']?(?:stylesheet|preload|preconnect|icon|"""
        r"""manifest|modulepreload)["']?[^>]+href=["']?(?:https?:)?//"""
    )
    for page in built_site.rglob("*.html"):
        text = page.read_text()
        assert not remote.search(text), (page, remote.search(text))
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text
    for css in built_site.rglob("*.css"):
        assert not re.search(
            r"url\(\s*['\"]?(?:https?:)?//", css.read_text()
        ), css


# Hosts that serve scripts, styles or fonts to other sites. A page that
# names one (in a tag, an inline import or a string a script fetches)
# depends on it even when no <script src> points there.
CDN_URL = re.compile(
    r"""(?:https?:)?//(?:[\w-]+\.)*(?:[\w-]*cdn[\w-]*\.[\w.-]+|unpkg\.com"""
    r"""|esm\.sh|ajax\.googleapis\.com|fonts\.googleapis\.com"""
    r"""|fonts\.gstatic\.com|code\.jquery\.com|cdnjs\.cloudflare\.com)"""
)
REMOTE_IMPORT = re.compile(
    r"""import\s*\(\s*["'](?:https?:)?//|from\s+["'](?:https?:)?//"""
)


def test_no_page_names_a_cdn_or_imports_from_another_host(built_site):
    pages = sorted(built_site.rglob("*.html"))
    assert any("vae_encode_decode" in str(p) for p in pages)  # notebook
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not CDN_URL.search(text), (page, CDN_URL.search(text))
        assert not REMOTE_IMPORT.search(text), (
            page,
            REMOTE_IMPORT.search(text),
        )
        # Material loads mermaid.js from a CDN for pages with diagrams
        assert 'class="mermaid"' not in text, page


def test_the_cdn_checks_catch_what_they_are_for():
    loader = 'await import("https://cdnjs.cloudflare.com/ajax/libs/m.mjs")'
    assert CDN_URL.search(loader) and REMOTE_IMPORT.search(loader)
    assert CDN_URL.search('<script src="https://cdn.jsdelivr.net/x.js">')
    assert CDN_URL.search("//unpkg.com/mermaid@11/dist/mermaid.min.js")
    assert not CDN_URL.search('<a href="https://github.com/a/b">')
    assert not REMOTE_IMPORT.search('import("./local.js")')


def test_notebook_page_downloads_and_outputs_are_current(
    built_site, site_results
):
    import nbformat

    nb_path = built_site / NOTEBOOK / "vae_encode_decode.ipynb"
    nb = nbformat.reads(nb_path.read_text(), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs for c in code)
    # the outputs are the engine's results for the starter as it is now
    res = site_results.result(
        "snippets/diffsynth/lab07_vae_encode_decode/vae_encode_decode.py"
    )
    printed = "".join(
        o.text for c in code for o in c.outputs if o.output_type == "stream"
    )
    assert printed == "".join(res.chunks)
    assert (built_site / LAB / "vae_encode_decode.py").read_text() == (
        ROOT / res.relpath
    ).read_text()


def test_lab_page_shows_versions_and_snippet_sources(built_site):
    import diffusers
    import torch

    text = html(built_site, LAB)
    assert f"torch {torch.__version__}" in text
    assert f"diffusers {diffusers.__version__}" in text
    for src in re.findall(r'href="([^"]*assets/snippets/[^"]+\.py)"', text):
        assert (built_site / LAB / src).resolve().is_file()


def test_lab_page_weight_within_budget(built_site):
    page_dir = built_site / LAB
    text = html(built_site, LAB)
    refs = re.findall(r'(?:src|href)="([^"#?]+\.(?:png|css|js))"', text)
    files = {(page_dir / r).resolve() for r in refs}
    total = len(text.encode()) + sum(f.stat().st_size for f in files)
    print(f"lab page weight: {total:,} bytes in {len(files) + 1} files")
    assert total <= LAB_PAGE_BUDGET


def test_contributing_page_keeps_every_line_of_the_guide(built_site):
    # region markers in the guide's examples are content, not directives
    page = html(built_site, "contributing")
    for text in (
        "# --8&lt;-- [start:encode]",
        "# --8&lt;-- [end:encode]",
        "<code># --8&lt;-- [start:name]</code>",
        "pymdownx.snippets syntax",
    ):
        assert text in page, text
