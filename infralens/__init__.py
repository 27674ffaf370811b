"""InfraLens: build-time snippet execution for the handbook and labs.

Snippets import two helpers from here:

- ``glue(name, value)`` hands a computed value to the page prose
  (``{{ val FILE:name }}``) and returns it unchanged.
- ``save_figure(fig, name, alt=...)`` / ``save_image(array, name, alt=...)``
  write a PNG that the page shows under the code's output; ``alt`` is its
  text alternative, what a screen reader says in its place: what the
  figure shows (a figure saved without one fails the build).

Run on its own (``python snippets/.../NN_name.py``) a snippet works the same:
glued values are printed nowhere and images land in ``_output/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from infralens.engine import state

__all__ = ["glue", "save_figure", "save_image", "output_dir"]


def output_dir() -> Path:
    path = Path(os.environ.get("INFRALENS_OUTPUT_DIR", "_output"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def glue(name: str, value):
    """Expose ``value`` to page prose as ``{{ val FILE:name }}``."""
    if not name.isidentifier():
        raise ValueError(f"glue name must be an identifier: {name!r}")
    state.record_glue(name, value)
    return value


def _check_png_name(name: str) -> str:
    if not isinstance(name, str) or not state.IMAGE_NAME_RE.fullmatch(name):
        raise ValueError(
            "image name must be letters, digits, '.', '_' or '-', "
            f"ending in '.png': {name!r}"
        )
    return name


def _check_alt(alt, helper: str, name: str) -> str:
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(
            f'{helper}(..., {name!r}) needs alt="...": a text alternative '
            "that says what the figure shows (a screen reader reads it in "
            "place of the image)"
        )
    alt = " ".join(alt.split())
    if len(alt) > state.ALT_MAX:
        raise ValueError(
            f"alt text of {name!r} is {len(alt)} characters; keep it under "
            f"{state.ALT_MAX} and print the numbers as text next to it"
        )
    return alt


def save_figure(fig, name: str, *, alt: str | None = None) -> Path:
    """Save a matplotlib figure as a reproducible PNG and close it.

    ``alt`` says what the figure shows, for readers who cannot see it."""
    import matplotlib.pyplot as plt

    path = output_dir() / _check_png_name(name)
    alt = _check_alt(alt, "save_figure", name)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    state.record_image(path.name, alt)
    return path


def save_image(array, name: str, *, alt: str | None = None) -> Path:
    """Save an (H, W, 3) or (H, W) array in [0, 1] as a PNG.

    ``alt`` says what the image shows, for readers who cannot see it."""
    import numpy as np
    from PIL import Image

    path = output_dir() / _check_png_name(name)
    alt = _check_alt(alt, "save_image", name)
    arr = np.asarray(array, dtype=np.float64)
    arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    Image.fromarray(arr).save(path)
    state.record_image(path.name, alt)
    return path
