"""What a page shows: escaped output, regions, images, values, warnings."""

from __future__ import annotations

import re

DEMO = """\
import warnings
from infralens import glue, save_image
import numpy as np
print("<script>alert('x')</script> & ```")
glue("answer", 6 * 7)
# --8<-- [start:second]
warnings.warn("a library warning")
save_image(np.full((8, 8, 3), 0.5), "grey.png", alt="A flat grey square")
print("from the region")
# --8<-- [end:second]
"""


def build_demo(toy):
    toy.write("snippets/demo/show.py", DEMO)
    toy.write(
        "docs/index.md",
        "---\nsnippets: demo\n---\n# Demo\n\n"
        "The answer is {{ val show.py:answer }}.\n\n"
        "{{ run show.py:second }}\n\n{{ output show.py }}\n",
    )
    return toy.build_page()


def test_printed_html_is_shown_as_text(toy):
    html = build_demo(toy)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_prose_values_come_from_the_run(toy):
    assert "The answer is 42." in build_demo(toy)


def test_region_shows_its_own_code_and_output(toy):
    html = build_demo(toy)
    text = re.sub(r"<[^>]+>", "", html)
    assert "from the region" in text
    assert "UserWarning: a library warning" in text
    # the region's code starts at line 7 of the file
    assert re.search(r"linenodiv.*?7", html, re.S)


def test_images_are_served_files_named_by_content(toy):
    html = build_demo(toy)
    srcs = re.findall(r'src="([^"]*grey[^"]*)"', html)
    assert srcs
    for src in srcs:
        assert (toy.root / "site" / src).stat().st_size > 0
        assert re.search(r"grey\.[0-9a-f]{10}\.png$", src)


def test_shown_code_is_the_executed_file(toy):
    build_demo(toy)
    served = (toy.root / "site/assets/snippets/demo/show.py").read_text()
    assert served == DEMO


def test_two_cold_builds_print_identical_outputs(toy):
    import shutil

    first = build_demo(toy)
    shutil.rmtree(toy.root / ".cache")
    second = build_demo(toy)
    assert first == second


def test_annotation_list_with_continuation_lines_stays_in_the_code_tab(toy):
    toy.write(
        "snippets/demo/ann.py", "a = 1  # (1)!\nb = 2  # (2)!\nprint(a + b)\n"
    )
    toy.write(
        "docs/index.md",
        "---\nsnippets: demo\n---\n# A\n\n"
        "{{ run ann.py }}\n\n1. First note,\n   continued here.\n"
        "2. Second note\n   with more.\n\nAfter the list.\n",
    )
    html = toy.build_page()
    block = html[html.index('class="tabbed-block"') :]
    code_tab = block[: block.index('class="tabbed-block"', 10)]
    assert re.search(r"<li>First note,\s+continued here.</li>", code_tab)
    assert re.search(r"<li>Second note\s+with more.</li>", code_tab)
    assert "After the list." not in code_tab


def test_include_keeps_lines_that_look_like_region_markers(toy):
    toy.write(
        "GUIDE.md",
        "# Guide\n\n```python\n# --8<-- [start:r]\nx = 1\n"
        "# --8<-- [end:r]\n```\n\nUse `# --8<-- [start:name]` lines.\n",
    )
    toy.write("docs/index.md", "{{ include GUIDE.md }}\n")
    with open(toy.root / "mkdocs.yml", "a") as f:
        f.write("  - pymdownx.snippets\n")  # which would drop such lines
    html = toy.build_page()
    assert "# --8&lt;-- [start:r]" in html
    assert "# --8&lt;-- [end:r]" in html
    assert "<code># --8&lt;-- [start:name]</code>" in html
