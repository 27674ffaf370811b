"""Pages reach only their repository, and snippet results are only data.

A page edit must not publish files of the build machine or run code from
outside the snippets folder, and nothing a snippet prints, glues or names
may turn into markup, a link, a remote load or another directive.
"""

from __future__ import annotations

import html as htmllib
import re

import pytest
from conftest import assert_build_fails, page


@pytest.mark.parametrize(
    "directive",
    ["{{ include /etc/passwd }}", "{{ include ../../../../etc/hostname }}"],
)
def test_include_outside_the_repository_fails_naming_page_line(toy, directive):
    page(toy, f"text\n\n{directive}")
    out = assert_build_fails(toy, "docs/index.md:8", "outside the repository")
    assert "root:" not in out


def test_include_of_a_non_markdown_file_fails(toy):
    page(toy, "{{ include mkdocs.yml }}")
    assert_build_fails(toy, "docs/index.md:6", "only Markdown files")


def test_run_of_a_file_outside_the_repository_fails(toy):
    elsewhere = toy.root.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.py").write_text(
        f"open({str(elsewhere / 'ran')!r}, 'w').write('yes')\n"
    )
    page(toy, "{{ run ../../../elsewhere/x.py }}")
    assert_build_fails(toy, "docs/index.md:6", "outside the snippets folder")
    assert not (elsewhere / "ran").exists()


def test_code_of_a_project_file_outside_snippets_fails(toy):
    toy.write("infralens/plugin.py", "print('plugin code ran')\n")
    page(toy, "{{ code ../../infralens/plugin.py }}")
    out = assert_build_fails(
        toy, "docs/index.md:6", "outside the snippets folder"
    )
    assert "plugin code ran" not in out


def test_front_matter_folder_cannot_leave_the_snippets_folder(toy):
    toy.write("elsewhere/x.py", "print(1)\n")
    page(toy, "{{ run x.py }}", folder="../elsewhere")
    assert_build_fails(toy, "docs/index.md:6", "outside the snippets folder")


def test_snippet_symlink_leading_outside_fails(toy):
    outside = toy.root.parent / "outside.py"
    outside.write_text("print('outside')\n")
    (toy.root / "snippets" / "demo").mkdir(parents=True)
    (toy.root / "snippets/demo/link.py").symlink_to(outside)
    page(toy, "{{ run link.py }}")
    assert_build_fails(toy, "docs/index.md:6", "outside the snippets folder")


@pytest.mark.parametrize(
    "value, forbidden",
    [
        ("[x](javascript:alert(1))", r"<a[^>]*javascript"),
        ("![](http://host/x.png)", r"<img[^>]*http://host"),
        ("<b>bold</b>", r"<b>bold"),
        ("**strong** :smile: `code`", r"<strong>|<code>|<img"),
    ],
)
def test_glued_values_are_text_not_markup(toy, value, forbidden):
    toy.write(
        "snippets/demo/g.py",
        f"from infralens import glue\nglue('v', {value!r})\n",
    )
    page(toy, "Value: {{ val g.py:v }} end.\n\n{{ code g.py }}")
    html = toy.build_page()
    para = re.search(r"<p>Value: (.*?) end\.</p>", html, re.S).group(1)
    assert not re.search(forbidden, para), para
    assert htmllib.unescape(para) == value


def test_glued_value_with_newlines_stays_one_line_of_text(toy):
    toy.write("SECRET.md", "the secret text\n")
    toy.write(
        "snippets/demo/g.py",
        "from infralens import glue\n"
        "glue('v', 'a\\n\\n{{ include SECRET.md }}\\n\\n# Heading')\n",
    )
    page(toy, "Value: {{ val g.py:v }}\n\n{{ code g.py }}")
    html = toy.build_page()
    assert "the secret text" not in html
    assert '<h1 id="heading"' not in html
    assert re.search(r"<p>Value: a .*include SECRET\.md.*Heading</p>", html)


def test_image_names_are_a_safe_file_name(toy):
    toy.write(
        "snippets/demo/i.py",
        "import numpy as np\nfrom infralens import save_image\n"
        "save_image(np.zeros((4, 4)), 'a](javascript:alert(3)).png')\n",
    )
    page(toy, "{{ run i.py }}")
    assert_build_fails(toy, "snippets/demo/i.py:3", "image name must be")


def test_image_names_recorded_behind_the_helper_are_checked(toy):
    toy.write(
        "snippets/demo/i.py",
        "from infralens.engine import state\n"
        "state.record_image('a](javascript:alert(3)).png')\n",
    )
    page(toy, "{{ run i.py }}")
    assert_build_fails(toy, "snippets/demo/i.py", "image name")


def test_printed_include_syntax_is_shown_not_expanded(toy):
    toy.write(
        "snippets/demo/p.py",
        "print('--8<-- \"mkdocs.yml\"')\nprint('{{ include GUIDE.md }}')\n",
    )
    toy.write("GUIDE.md", "guide text\n")
    with open(toy.root / "mkdocs.yml", "a") as f:
        f.write("  - pymdownx.snippets\n")
    page(toy, "{{ run p.py }}")
    html = toy.build_page()
    assert "site_name" not in html
    assert "guide text" not in html
    assert '--8&lt;-- "mkdocs.yml"' in html
    assert "{{ include GUIDE.md }}" in html


def test_printed_output_is_verbatim(toy):
    text = "a  *b*  [c](d)\n    indented\n<i>x</i> &amp; ```"
    toy.write("snippets/demo/p.py", f"print({text!r})\n")
    page(toy, "{{ output p.py }}")
    html = toy.build_page()
    pre = re.search(r"<pre>(.*?)</pre>", html, re.S).group(1)
    shown = re.sub(r"<[^>]+>", "", pre)
    unescaped = (
        shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    assert text in unescaped


def test_control_characters_never_reach_the_html(toy):
    toy.write(
        "snippets/demo/c.py",
        "from infralens import glue\n"
        "print('nul\\x00 esc\\x1b[31mred')\n"
        "glue('v', 'x\\x00y\\x1bz')\n",
    )
    page(toy, "Value {{ val c.py:v }}.\n\n{{ run c.py }}")
    html = toy.build_page()
    assert "\x00" not in html and "\x1b" not in html
    assert "nul\u2400 esc\u241b[31mred" in html
    assert "Value x\u2400y\u241bz." in htmllib.unescape(html)
