"""The small Stable-Diffusion-shaped VAE that ships with the repository."""

from __future__ import annotations

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
    from skimage import data

    rgb = data.chelsea().astype(np.float32) / 255.0
    return to_model_input(area_resize(rgb, height, width))


def to_rgb(x) -> np.ndarray:
    """(1, 3, H, W) tensor in [-1, 1] -> (H, W, 3) array in [0, 1]."""
    return ((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy()


EVAL_SIZES = ((64, 96), (128, 192), (256, 384))


def evaluate(vae=None) -> dict:
    """Held-out quality of the shipped VAE on ``chelsea`` (never trained on).

    For each size: PSNR of decode(mode) against the area-downscaled input,
    and the std of scaled latents (posterior mode and a seeded sample)."""
    import torch

    vae = vae or load()
    s = vae.config.scaling_factor
    rows = []
    for h, w in EVAL_SIZES:
        x = cat_image(h, w)
        with torch.no_grad():
            post = vae.encode(x).latent_dist
            z = post.mode()
            gen = torch.Generator().manual_seed(0)
            zs = post.sample(generator=gen)
            y = vae.decode(z).sample.clamp(-1, 1)
        rows.append(
            {
                "size": f"{h}x{w}",
                "psnr": round(psnr(x, y), 2),
                "std_mode": round((z * s).std().item(), 3),
                "std_sample": round((zs * s).std().item(), 3),
            }
        )
    return {"scaling_factor": s, "rows": rows}
