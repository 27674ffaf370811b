"""Images a snippet saves: their text alternative, size and copies."""

from __future__ import annotations

import html
import json
import re

from conftest import assert_build_fails, page
from PIL import Image

from infralens.engine import notebook


def snippet(toy, body: str, name: str = "i.py"):
    toy.write(
        f"snippets/demo/{name}",
        "import numpy as np\nfrom infralens import save_figure, save_image\n"
        + body,
    )


def test_image_saved_without_alt_text_fails_the_build_at_its_line(toy):
    snippet(toy, "x = 1\nsave_image(np.zeros((4, 4)), 'dark.png')\n")
    page(toy, "{{ run i.py }}")
    assert_build_fails(toy, "snippets/demo/i.py:4", "needs alt=")


def test_figure_saved_with_blank_alt_text_fails_the_build(toy):
    snippet(
        toy,
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
        "save_figure(fig, 'plot.png', alt='   ')\n",
    )
    page(toy, "{{ run i.py }}")
    assert_build_fails(toy, "snippets/demo/i.py:5", "needs alt=")


def test_image_recorded_behind_the_helper_without_alt_text_fails(toy):
    toy.write(
        "snippets/demo/i.py",
        "from infralens.engine import state\nstate.record_image('ok.png')\n",
    )
    page(toy, "{{ run i.py }}")
    assert_build_fails(toy, "snippets/demo/i.py", "without alt text")


def test_alt_text_is_escaped_into_the_image_tag(toy):
    alt = 'A "quoted" <b>bold</b> & {{ val i.py:x }} [link](javascript:x)'
    snippet(toy, f"save_image(np.zeros((4, 4)), 'dark.png', alt={alt!r})\n")
    page(toy, "{{ run i.py }}")
    text = toy.build_page()
    img = re.search(r"<img [^>]*>", text).group()
    assert f'alt="{html.escape(alt, quote=True)}"' in img
    assert "<b>bold</b>" not in text
    assert 'href="javascript' not in text


def test_image_tag_has_its_size_lazy_loading_and_smaller_copies(toy):
    snippet(
        toy,
        "save_image(np.zeros((250, 1000)), 'wide.png', alt='A wide image')\n"
        "save_image(np.zeros((50, 100)), 'small.png', alt='A small image')\n",
    )
    page(toy, "{{ run i.py }}")
    text = toy.build_page()
    wide, small = re.findall(r"<img [^>]*>", text)
    for tag, w, h in ((wide, 1000, 250), (small, 100, 50)):
        assert f'width="{w}"' in tag and f'height="{h}"' in tag
        assert 'loading="lazy"' in tag
    assert "srcset" not in small  # nothing smaller to offer
    srcset = re.search(r'srcset="([^"]+)"', wide).group(1)
    offered = [c.split() for c in srcset.split(", ")]
    assert [d for _, d in offered] == ["320w", "480w", "640w", "800w", "1000w"]
    for url, descriptor in offered:
        with Image.open(toy.root / "site" / url) as im:
            assert im.width == int(descriptor[:-1])
            assert im.height == round(250 * im.width / 1000)


def test_starter_notebook_images_carry_their_alt_text(toy):
    snippet(
        toy,
        "# %%\nsave_image(np.zeros((8, 16)), 'dark.png', alt='All <dark>')\n",
        name="starter.py",
    )
    engine = toy.engine()
    result = engine.result("snippets/demo/starter.py")
    nb = json.loads(notebook.build_notebook(result))
    (out,) = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert out["data"]["text/plain"] == "All <dark>"
    tag = out["data"]["text/html"]
    assert 'alt="All &lt;dark&gt;"' in tag
    assert 'width="16" height="8"' in tag


def test_starter_notebook_embeds_wide_figures_at_column_size(toy):
    snippet(
        toy,
        "# %%\nsave_image(np.ones((100, 1000)), 'wide.png', alt='White')\n",
        name="starter.py",
    )
    result = toy.engine().result("snippets/demo/starter.py")
    nb = json.loads(notebook.build_notebook(result))
    (out,) = [o for c in nb["cells"] for o in c.get("outputs", [])]
    width = notebook.NOTEBOOK_MAX_WIDTH
    assert f'width="{width}" height="80"' in out["data"]["text/html"]
