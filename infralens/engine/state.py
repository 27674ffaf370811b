"""Per-run records that survive the worker's module purge between snippets.

Outside the engine (a snippet run with plain ``python``) the records are
simply kept in memory and never read.
"""

from __future__ import annotations

import re

# what an image may be called: it becomes part of a URL and an alt text
IMAGE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.png")
# the longest text alternative an image may have (numbers belong in
# printed text next to the figure, not in its alt text)
ALT_MAX = 600

_glue: dict[str, str] = {}
_images: list[tuple[str, int, str]] = []
_chunk = 0


def reset() -> None:
    global _chunk
    _glue.clear()
    _images.clear()
    _chunk = 0


def set_chunk(index: int) -> None:
    global _chunk
    _chunk = index


def record_glue(name: str, value) -> None:
    if name in _glue:
        raise ValueError(f"glue name used twice in one snippet: {name!r}")
    _glue[name] = value if isinstance(value, str) else str(value)


def record_image(name: str, alt: str = "") -> None:
    """An image the snippet saved, with its text alternative (checked by
    the engine: an image without one fails the build)."""
    _images[:] = [im for im in _images if im[0] != name]
    _images.append((name, _chunk, alt))


def take() -> tuple[dict[str, str], list[tuple[str, int, str]]]:
    return dict(_glue), list(_images)
