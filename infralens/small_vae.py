"""The small Stable-Diffusion-shaped VAE that ships with the repository."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models" / "small-vae"

# Stable Diffusion's VAE shape (4 down/up blocks, x8, 4 latent channels,
# GroupNorm, attention in the mid block) with small channel widths.
ARCHITECTURE = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=[32, 64, 128, 128],
    layers_per_block=1,
    latent_channels=4,
    norm_num_groups=16,
    sample_size=256,
    mid_block_add_attention=True,
)


def new_model():
    from diffusers import AutoencoderKL

    return AutoencoderKL(**ARCHITECTURE)


def to_model_input(rgb: np.ndarray):
    """(H, W, 3) floats in [0, 1] -> (1, 3, H, W) tensor in [-1, 1]."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)
    return x.unsqueeze(0).float() * 2.0 - 1.0


def area_resize(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area (box) downscale of an (H, W, 3) image in [0, 1]."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
    y = F.interpolate(x.float(), size=(height, width), mode="area")
    return y[0].permute(1, 2, 0).numpy()


def psnr(a, b, data_range: float = 2.0) -> float:
    """PSNR in dB between two tensors in [-1, 1] (range 2)."""
    import torch

    mse = torch.mean((a.float() - b.float()) ** 2).item()
    return float(10.0 * np.log10(data_range**2 / mse))


def load(dtype=None):
    """The shipped VAE, loaded with the real diffusers call, in eval mode."""
    from diffusers import AutoencoderKL

    kwargs = {"torch_dtype": dtype} if dtype is not None else {}
    return AutoencoderKL.from_pretrained(MODEL_DIR, **kwargs).eval()


def cat_image(height: int = 128, width: int = 192):
    """skimage's held-out ``chelsea``, area-resized, as (1, 3, H, W) in
    [-1, 1]: the image every lab snippet encodes."""
    from infralens.training_data import held_out_image

    return to_model_input(area_resize(held_out_image(), height, width))


def to_rgb(x) -> np.ndarray:
    """(1, 3, H, W) tensor in [-1, 1] -> (H, W, 3) array in [0, 1]."""
    return ((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy()


EVAL_SIZES = ((64, 96), (128, 192), (256, 384))


def center_crop(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest centred crop of an (H, W, 3) image with aspect
    ``height:width``."""
    h, w, _ = rgb.shape
    ch, cw = (h, round(h * width / height))
    if cw > w:
        ch, cw = round(w * height / width), w
    top, left = (h - ch) // 2, (w - cw) // 2
    return rgb[top : top + ch, left : left + cw]


@functools.lru_cache(maxsize=1)
def _packaged_images():
    from infralens.training_data import (
        HELD_OUT,
        TRAINING_IMAGES,
        held_out_image,
        image_path,
        load_rgb,
    )

    sources = [(i.name, load_rgb(image_path(i))) for i in TRAINING_IMAGES]
    return (*sources, (HELD_OUT, held_out_image()))


def image_set(height: int, width: int):
    """Every packaged image (the training images and the held-out cat) at
    least ``height`` x ``width`` after a centred crop to that aspect,
    area-resized to it: (names, (N, 3, H, W) tensor in [-1, 1])."""
    import torch

    names, batch = [], []
    for name, rgb in _packaged_images():
        crop = center_crop(rgb, height, width)
        if crop.shape[0] < height:
            continue  # would need upscaling
        names.append(name)
        batch.append(to_model_input(area_resize(crop, height, width)))
    return names, torch.cat(batch)


def evaluate(vae=None) -> dict:
    """Quality of the shipped VAE at each of EVAL_SIZES.

    PSNR of decode(mode) against the area-downscaled input is measured on
    ``chelsea``, never seen in training. The scaled latent std (of a seeded
    posterior sample) is measured on the whole packaged image set, since
    ``scaling_factor`` is a statistic of a set of images; chelsea's own
    std is reported next to it."""
    import torch

    vae = vae or load()
    s = vae.config.scaling_factor
    rows = []
    for h, w in EVAL_SIZES:
        x = cat_image(h, w)
        names, xs = image_set(h, w)
        with torch.no_grad():
            post = vae.encode(x).latent_dist
            z = post.mode()
            zs = post.sample(generator=torch.Generator().manual_seed(0))
            y = vae.decode(z).sample.clamp(-1, 1)
            zset = vae.encode(xs).latent_dist.sample(
                generator=torch.Generator().manual_seed(0)
            )
        per_image = (zset * s).flatten(1).std(dim=1)
        rows.append(
            {
                "size": f"{h}x{w}",
                "psnr": round(psnr(x, y), 2),
                "std_mode": round((z * s).std().item(), 3),
                "std_sample": round((zs * s).std().item(), 3),
                "set_images": len(names),
                "std_set": round((zset * s).std().item(), 3),
                "std_set_min": round(per_image.min().item(), 3),
                "std_set_min_image": names[per_image.argmin().item()],
                "std_set_max": round(per_image.max().item(), 3),
                "std_set_max_image": names[per_image.argmax().item()],
            }
        )
    return {"scaling_factor": s, "rows": rows}
