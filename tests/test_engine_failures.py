"""Each way a snippet or page can be wrong stops the build with its place."""

from __future__ import annotations

import pytest
from conftest import assert_build_fails, page

from infralens.engine.source import SnippetError, parse


def test_exception_fails_build_with_path_and_line(toy):
    toy.write("snippets/demo/boom.py", "x = 1\n\ny = x / 0\n")
    page(toy, "{{ run boom.py }}")
    out = assert_build_fails(
        toy, "snippets/demo/boom.py:3", "ZeroDivisionError"
    )
    assert "Traceback" not in (toy.root / "docs" / "index.md").read_text()
    assert "nothing was published" in out


def test_exception_in_imported_function_points_at_snippet_line(toy):
    toy.write(
        "snippets/demo/deep.py", "def f():\n    raise KeyError('k')\n\n\nf()\n"
    )
    page(toy, "{{ run deep.py }}")
    assert_build_fails(toy, "snippets/demo/deep.py:2", "KeyError")


def test_syntax_error_fails_build_with_line(toy):
    toy.write("snippets/demo/bad.py", "print('ok')\nif True\n    pass\n")
    page(toy, "{{ run bad.py }}")
    assert_build_fails(toy, "snippets/demo/bad.py:2", "SyntaxError")


def test_missing_snippet_fails_build_naming_page_line(toy):
    page(toy, "text\n\n{{ run nowhere.py }}")
    assert_build_fails(toy, "docs/index.md:8", "snippets/demo/nowhere.py")


def test_unreferenced_snippet_fails_build(toy):
    toy.write("snippets/demo/used.py", "print(1)\n")
    toy.write("snippets/demo/orphan.py", "print(2)\n")
    page(toy, "{{ run used.py }}")
    assert_build_fails(toy, "snippets/demo/orphan.py", "referenced by no page")


def test_timeout_fails_build(toy):
    toy.write(
        "mkdocs.yml",
        toy.root.joinpath("mkdocs.yml")
        .read_text()
        .replace("timeout: 10", "timeout: 2"),
    )
    toy.write("snippets/demo/loop.py", "while True:\n    pass\n")
    page(toy, "{{ run loop.py }}")
    assert_build_fails(toy, "snippets/demo/loop.py", "timed out after 2 s")


def test_huge_output_fails_build(toy):
    toy.write("snippets/demo/loud.py", "print('x' * 10_000_000)\n")
    page(toy, "{{ run loud.py }}")
    assert_build_fails(
        toy, "snippets/demo/loud.py:1", "printed more than 100,000 bytes"
    )


def test_huge_output_from_c_level_writes_fails_build(toy):
    toy.write(
        "snippets/demo/fdloud.py", "import os\nos.write(1, b'y' * 300_000)\n"
    )
    page(toy, "{{ run fdloud.py }}")
    assert_build_fails(toy, "snippets/demo/fdloud.py", "printed more than")


def test_worker_crash_fails_build(toy):
    toy.write("snippets/demo/die.py", "import os\nos._exit(3)\n")
    page(toy, "{{ run die.py }}")
    assert_build_fails(toy, "snippets/demo/die.py", "exit code 3")


def test_sys_exit_fails_build(toy):
    toy.write("snippets/demo/quit.py", "import sys\nsys.exit(0)\n")
    page(toy, "{{ run quit.py }}")
    assert_build_fails(toy, "snippets/demo/quit.py:2", "SystemExit")


def test_unknown_region_fails_build(toy):
    toy.write("snippets/demo/r.py", "print(1)\n")
    page(toy, "{{ run r.py:nope }}")
    assert_build_fails(toy, "docs/index.md", "has no region 'nope'")


def test_unknown_glue_value_fails_build(toy):
    toy.write(
        "snippets/demo/g.py", "from infralens import glue\nglue('a', 1)\n"
    )
    page(toy, "Value {{ val g.py:b }}.\n\n{{ run g.py }}")
    assert_build_fails(toy, "glues no value named 'b'")


def test_malformed_directive_fails_build(toy):
    toy.write("snippets/demo/m.py", "print(1)\n")
    page(toy, "{{ run m.py }}\n\nSee {{ val m.py }} here.")
    assert_build_fails(toy, "docs/index.md:8", "malformed snippet directive")


def test_all_failures_are_reported_together(toy):
    toy.write("snippets/demo/a.py", "1 / 0\n")
    toy.write("snippets/demo/b.py", "import nope_not_a_module\n")
    page(toy, "{{ run a.py }}\n\n{{ run b.py }}")
    assert_build_fails(
        toy,
        "snippets/demo/a.py:1",
        "snippets/demo/b.py:1",
        "ModuleNotFoundError",
    )


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("# --8<-- [start:a]\nx = 1\n", 1, "never closed"),
        ("# --8<-- [start:a]\n# --8<-- [start:b]\n", 2, "do not nest"),
        (
            "x = (1,\n# --8<-- [start:a]\n2)\n# --8<-- [end:a]\n",
            2,
            "inside a statement",
        ),
        ("# --8<-- [end:a]\n", 1, "not open"),
    ],
)
def test_region_marker_errors_name_the_line(tmp_path, text, line, message):
    path = tmp_path / "s.py"
    path.write_text(text)
    with pytest.raises(SnippetError) as info:
        parse(path)
    assert info.value.line == line
    assert message in info.value.message
    assert str(path) in str(info.value)


def test_missing_included_file_fails_build_naming_page_line(toy):
    page(toy, "text\n\n{{ include GUIDE.md }}")
    assert_build_fails(toy, "docs/index.md:8", "GUIDE.md")
