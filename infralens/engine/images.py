"""Images as pages show them: their size, and smaller copies for screens
that display them smaller (``srcset``), so that no reader downloads more
pixels than the page shows.

The copies are made from a run's cached PNG when a page is built (a
resize, no snippet runs) and kept next to it in the cache.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

# Widths of the smaller copies: every 160 px from 320 px, below the
# image's own width (a copy within 10% of it is not worth a file).
STEP = 160
SMALLEST = 320
# How wide the page's text column is (Material's layout): the browser
# uses this before the page is laid out; "auto" lets browsers that
# support it use the width the image actually gets, since every image is
# loaded lazily.
SIZES = (
    "auto, (min-width: 2000px) 826px, (min-width: 1600px) 757px, "
    "(min-width: 1220px) 688px, (min-width: 960px) calc(100vw - 274px), "
    "calc(100vw - 32px)"
)


@dataclass(frozen=True)
class ImageFile:
    """One file of an image: its URL (relative to the page) and size."""

    url: str
    width: int
    height: int


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"not a PNG file: {path}")
    return struct.unpack(">II", head[16:24])


def copy_widths(width: int) -> list[int]:
    """Widths of the smaller copies of an image ``width`` pixels wide."""
    return list(range(SMALLEST, int(width * 0.9) + 1, STEP))


def resized(src: Path, width: int, dest: Path) -> Path:
    """``src`` scaled to ``width`` pixels wide (aspect kept) at ``dest``,
    made once: the file name carries the source's hash and the width."""
    if dest.is_file():
        return dest
    from PIL import Image

    from infralens.engine.cache import atomic_write

    with Image.open(src) as im:
        height = max(1, round(im.height * width / im.width))
        small = im.resize((width, height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    atomic_write(dest, buf.getvalue())
    return dest


def _url(url: str) -> str:
    """A relative URL safe in a quoted attribute and in ``srcset`` (no
    spaces or commas)."""
    return quote(url, safe="/._-~")


def img_tag(files: list[ImageFile], alt: str) -> str:
    """An ``<img>`` for an image offered in ``files`` (largest last): its
    own width and height (no layout shift while it loads), loaded lazily,
    with the smaller copies in ``srcset``. ``alt`` goes in as given: the
    caller passes text that is safe in a quoted attribute."""
    full = files[-1]
    attrs = [
        f'src="{_url(full.url)}"',
        f'alt="{alt}"',
        f'width="{full.width}"',
        f'height="{full.height}"',
        'loading="lazy"',
        'decoding="async"',
    ]
    if len(files) > 1:
        srcset = ", ".join(f"{_url(f.url)} {f.width}w" for f in files)
        attrs += [f'srcset="{srcset}"', f'sizes="{SIZES}"']
    return f"<img {' '.join(attrs)} />"
