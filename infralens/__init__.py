"""InfraLens: build-time snippet execution for the handbook and labs.

Snippets import two helpers from here:

- ``glue(name, value)`` hands a computed value to the page prose
  (``{{ val FILE:name }}``) and returns it unchanged.
- ``save_figure(fig, name)`` / ``save_image(array, name)`` write a PNG that
  the page shows under the code's output.

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


def save_figure(fig, name: str) -> Path:
    """Save a matplotlib figure as a reproducible PNG and close it."""
    import matplotlib.pyplot as plt

    path = output_dir() / _check_png_name(name)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    state.record_image(path.name)
    return path


def save_image(array, name: str) -> Path:
    """Save an (H, W, 3) or (H, W) array in [0, 1] as a PNG."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(array, dtype=np.float64)
    arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    path = output_dir() / _check_png_name(name)
    Image.fromarray(arr).save(path)
    state.record_image(path.name)
    return path
