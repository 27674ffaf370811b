"""Training and evaluation images that ship inside installed packages.

Nothing here downloads: every image is a file inside scikit-image's or
matplotlib's installed package. ``chelsea`` (the cat) is held out for
evaluation and never appears in the training set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HELD_OUT = "chelsea"


@dataclass(frozen=True)
class SourceImage:
    name: str
    package: str
    file: str
    license: str


def _skimage_dir() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data"


def _mpl_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data"


# Each license is quoted from the docstring of the skimage.data function of
# the same name (scikit-image 0.26) or, for grace_hopper, from the image's
# Wikimedia Commons page. Images whose docstring states no license are left
# out.
TRAINING_IMAGES = [
    SourceImage(
        "astronaut",
        "scikit-image",
        "astronaut.png",
        "public domain (NASA Great Images)",
    ),
    SourceImage(
        "coffee", "scikit-image", "coffee.png", "CC0 (Rachel Michetti)"
    ),
    SourceImage(
        "rocket", "scikit-image", "rocket.jpg", "public domain (SpaceX)"
    ),
    SourceImage(
        "immunohistochemistry",
        "scikit-image",
        "ihc.png",
        "no known copyright restrictions",
    ),
    SourceImage("retina", "scikit-image", "retina.jpg", "CC0 1.0"),
    SourceImage(
        "hubble_deep_field",
        "scikit-image",
        "hubble_deep_field.jpg",
        "public domain (NASA)",
    ),
    SourceImage("camera", "scikit-image", "camera.png", "CC0 (Lav Varshney)"),
    SourceImage("brick", "scikit-image", "brick.png", "CC0 (CC0Textures)"),
    SourceImage("grass", "scikit-image", "grass.png", "CC0"),
    SourceImage("gravel", "scikit-image", "gravel.png", "CC0 (CC0Textures)"),
    SourceImage(
        "coins", "scikit-image", "coins.png", "no known copyright restrictions"
    ),
    SourceImage("text", "scikit-image", "text.png", "public domain"),
    SourceImage(
        "grace_hopper",
        "matplotlib",
        "grace_hopper.jpg",
        "public domain (U.S. Navy photograph)",
    ),
]


def image_path(img: SourceImage) -> Path:
    base = _skimage_dir() if img.package == "scikit-image" else _mpl_dir()
    return base / img.file


def load_rgb(path: Path) -> np.ndarray:
    """Read an image file as float32 RGB in [0, 1], shape (H, W, 3)."""
    from PIL import Image

    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return arr


def held_out_image() -> np.ndarray:
    return load_rgb(_skimage_dir() / "chelsea.png")
