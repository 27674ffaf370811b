"""The engine's steps in process, without a build or a worker: parse a
snippet, scan a page, render it from a result, fill the printed text into
the HTML, build a starter notebook, read settings."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from PIL import Image as PILImage

from infralens.engine import notebook, render, scan, settings, source
from infralens.engine.images import ImageFile
from infralens.engine.records import Image, Result
from infralens.engine.source import SnippetError

SNIPPET = textwrap.dedent(
    """\
    # %% [markdown]
    # A starter.

    # %%
    x = 2
    # --8<-- [start:show]
    print("x is", x)
    # --8<-- [end:show]
    print("<b>not bold</b>")
    """
)


@pytest.fixture
def snippet(tmp_path) -> source.Snippet:
    path = tmp_path / "snippets" / "demo" / "s.py"
    path.parent.mkdir(parents=True)
    path.write_text(SNIPPET)
    return source.parse(path)


def result_of(snip, chunks, images=()) -> Result:
    return Result(
        "snippets/demo/s.py",
        snip,
        tuple(chunks),
        tuple(images),
        {"v": "4 < 5"},
        0.1,
        True,
    )


def test_parse_splits_regions_chunks_and_cells(snippet):
    assert list(snippet.regions) == ["show"]
    assert snippet.shown_code("show").strip() == 'print("x is", x)'
    assert [c.kind for c in snippet.cells] == ["markdown", "code"]
    assert len(snippet.chunks) == 3  # before, inside and after the region


def test_scan_resolves_paths_from_the_front_matter_folder():
    page = (
        "---\nsnippets: demo\n---\n# P\n\n"
        "{{ run s.py:show }}\n\nx = {{ val s.py:v }}\n"
    )
    found = scan.scan("docs/p.md", page)
    assert [(d.verb, d.snippet, d.region, d.line) for d in found] == [
        ("run", "snippets/demo/s.py", "show", 6),
        ("val", "snippets/demo/s.py", None, 8),
    ]
    assert scan.requests("docs/p.md", found)[0].snippet == "snippets/demo/s.py"


def test_scan_ignores_directives_in_fences_and_names_bad_ones():
    fenced = "```\n{{ run s.py }}\n```\n"
    assert scan.scan("docs/p.md", fenced) == []
    with pytest.raises(SnippetError) as err:
        scan.scan("docs/p.md", "# P\n\n{{ run }}\n")
    assert err.value.line == 3 and "malformed" in err.value.message
    with pytest.raises(SnippetError) as err:
        scan.scan("docs/p.md", "{{ run ../../etc/passwd }}\n")
    assert "outside the snippets folder" in err.value.message


def test_render_shows_code_and_output_as_tabs_with_output_kept_literal(
    snippet,
):
    res = result_of(snippet, ["", "x is 2\n", "<b>not bold</b>\n"])
    page = (
        "---\nsnippets: demo\n---\n"
        "{{ run s.py:show }}\n\nv = {{ val s.py:v }}\n"
    )
    ds = scan.scan("docs/p.md", page)
    r = render.PageRenderer(
        "docs/p.md", {res.relpath: res}, lambda res, im: [], {}
    )
    md = r.render(page, ds)
    assert '===! "Code"' in md and '=== "Output"' in md
    assert 'print("x is", x)' in md
    assert "x is 2" not in md  # printed text stays out of the Markdown
    assert "v = 4 &#60; 5" in md  # a glued value is literal text
    html = r.literals.fill(f"<pre>{md}</pre>")
    assert "x is 2" in html


def test_literals_are_escaped_into_the_html(snippet):
    lit = render.Literals()
    token = lit.token("<script>alert(1)</script>\x1b")
    html = lit.fill(f"<code>{token}</code>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\u241b" in html  # ESC shown as a symbol


def test_render_fails_naming_the_line_of_an_unknown_value(snippet):
    res = result_of(snippet, ["", "", ""])
    page = "# P\n\n{{ val demo/s.py:nope }}\n"
    ds = scan.scan("docs/p.md", page)
    r = render.PageRenderer("docs/p.md", {res.relpath: res}, None, {})
    with pytest.raises(SnippetError) as err:
        r.render(page, ds)
    assert err.value.line == 3 and "no value named 'nope'" in err.value.message


def test_images_render_with_their_alt_text_and_size(snippet, tmp_path):
    png = tmp_path / "f.png"
    PILImage.new("RGB", (40, 20)).save(png)
    im = Image("f.png", 1, 'A "chart"', "0" * 64, png)
    res = result_of(snippet, ["", "x is 2\n", ""], [im])
    r = render.PageRenderer(
        "docs/p.md",
        {res.relpath: res},
        lambda res, im: [ImageFile("f.png", 40, 20)],
        {},
    )
    md = r.render(
        "{{ output demo/s.py:show }}\n",
        scan.scan("docs/p.md", "{{ output demo/s.py:show }}\n"),
    )
    html = r.literals.fill(md)
    assert 'width="40" height="20"' in html
    assert 'alt="A &quot;chart&quot;"' in html


def test_notebook_has_the_cells_and_their_outputs(snippet, tmp_path):
    png = tmp_path / "f.png"
    PILImage.new("RGB", (8, 8)).save(png)
    im = Image("f.png", 2, "a square", "0" * 64, png)
    res = result_of(snippet, ["", "x is 2\n", "<b>not bold</b>\n"], [im])
    nb = json.loads(notebook.build_notebook(res))
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code"]
    outputs = nb["cells"][1]["outputs"]
    assert outputs[0]["text"] == "x is 2\n<b>not bold</b>\n"
    assert 'alt="a square"' in outputs[1]["data"]["text/html"]


def test_settings_come_from_the_plugin_options(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: X\nsite_url: !ENV [U, 'http://x/']\nplugins:\n"
        "  - infralens:\n      timeout: 7\n      jobs: 1\n"
    )
    opts = settings.load(tmp_path)
    assert (opts.timeout, opts.jobs) == (7, 1)
    assert opts.cache_dir == settings.Settings().cache_dir
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: X\nplugins:\n  - infralens:\n      timeout: soon\n"
    )
    with pytest.raises(ValueError, match="mkdocs.yml: timeout must be int"):
        settings.load(tmp_path)


def test_the_engine_is_a_context_manager_that_stops_its_workers(tmp_path):
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "a.py").write_text("print('hi')\n")
    opts = settings.Settings(preload=(), jobs=1)
    with opts.engine(tmp_path) as engine:
        assert engine.result("snippets/a.py").chunks == ("hi\n",)
        workers = list(engine._started)
        assert workers and all(w.alive() for w in workers)
    assert not any(w.alive() for w in workers)
    assert Path(tmp_path / ".cache/infralens/entries").is_dir()


def test_values_in_code_annotations_are_filled_in(snippet):
    res = result_of(snippet, ["", "x is 2\n", ""])
    page = (
        "---\nsnippets: demo\n---\n{{ code s.py:show }}\n\n"
        "1. prints x, which is {{ val s.py:v }}\n"
    )
    r = render.PageRenderer("docs/p.md", {res.relpath: res}, None, {})
    md = r.render(page, scan.scan("docs/p.md", page))
    assert "1. prints x, which is 4 &#60; 5" in md
    assert "{{" not in md


def test_notebook_images_follow_their_bytes(tmp_path):
    # the scaled copy of a wide image is remembered by the image's bytes
    png = tmp_path / "wide.png"
    scaled = []
    wide = (notebook.NOTEBOOK_MAX_WIDTH * 2, 10)
    for colour in ("red", "blue"):
        PILImage.new("RGB", wide, colour).save(png)
        data, width, height = notebook._png(png)
        assert (width, height) == (notebook.NOTEBOOK_MAX_WIDTH, 5)
        scaled.append(data)
    assert scaled[0] != scaled[1]
