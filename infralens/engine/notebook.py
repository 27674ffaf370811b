"""Turn a percent-format starter (``# %%`` cells) plus its engine run into
an .ipynb with outputs, so the notebook page shows this build's results."""

from __future__ import annotations

import base64
import functools
import html
import io
import json
from pathlib import Path

from infralens.engine.images import png_size
from infralens.engine.render import visible

# widest image a notebook embeds: the content column is 688 CSS pixels, so
# a wider figure would only be scaled down by the browser after download
NOTEBOOK_MAX_WIDTH = 800


def _png(path: Path) -> tuple[bytes, int, int]:
    """The PNG's bytes and size, scaled down to NOTEBOOK_MAX_WIDTH."""
    width, height = png_size(path)
    if width <= NOTEBOOK_MAX_WIDTH:
        return path.read_bytes(), width, height
    return _scaled(path.read_bytes(), width, height)


@functools.lru_cache(maxsize=64)
def _scaled(png: bytes, width: int, height: int) -> tuple[bytes, int, int]:
    """``png`` (``width`` x ``height``) scaled down to NOTEBOOK_MAX_WIDTH,
    and its new size. Every build writes every starter notebook, so the
    scaled copy is remembered for the same bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        height = max(1, round(height * NOTEBOOK_MAX_WIDTH / width))
        small = im.resize(
            (NOTEBOOK_MAX_WIDTH, height), Image.Resampling.LANCZOS
        )
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    return buf.getvalue(), NOTEBOOK_MAX_WIDTH, height


def _image_output(im) -> dict:
    """An image as notebook output: HTML with its alt text and size (the
    notebook renderers' PNG output has no alt), and the alt text as the
    plain-text form."""
    png, width, height = _png(Path(im.path))
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(" ".join(im.alt.split()), quote=True)
    tag = (
        f'<img src="data:image/png;base64,{data}" alt="{alt}" '
        f'width="{width}" height="{height}" loading="lazy" />'
    )
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/html": tag, "text/plain": im.alt},
    }


def build_notebook(result) -> str:
    snip = result.snippet
    cells = []
    count = 0
    for cell in snip.cells:
        if cell.kind == "markdown":
            cells.append(
                {
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": cell.source,
                }
            )
            continue
        ids = [
            c.index
            for c in snip.chunks
            if cell.first_line <= c.first_line <= cell.last_line
        ]
        outputs = []
        text = visible("".join(result.chunks[i] for i in ids))
        if text:
            outputs.append(
                {"output_type": "stream", "name": "stdout", "text": text}
            )
        for im in result.images:
            if im.chunk in ids:
                outputs.append(_image_output(im))
        count += 1
        cells.append(
            {
                "cell_type": "code",
                "execution_count": count,
                "metadata": {},
                "outputs": outputs,
                "source": cell.source,
            }
        )
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"cell-{i}"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
