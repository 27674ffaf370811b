"""Control images and the two small ControlNets shipped in ``models/``.

Both ControlNets are diffusers ``ControlNetModel``s made with
``ControlNetModel.from_unet`` from the UNet of ``models/tiny-sd`` and
trained by ``scripts/train_controlnets.py``: one reads a brightness
(tone) map, the other a coarse colour layout. The functions here turn an
RGB picture into those control images, the same way for training and
for the pages.
Control images are float tensors (B, 3, H, W) in [0, 1], the range
diffusers' ControlNet pipelines hand to a ControlNet.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
CONTROLS = ("tone", "layout")
MODEL_DIRS = {c: ROOT / "models" / f"tiny-controlnet-{c}" for c in CONTROLS}

# The conditioning embedding (control image -> the UNet's first feature
# width) is smaller than diffusers' default (16, 32, 96, 256), to match a
# UNet whose widest block has 64 channels. Four entries: three stride-2
# convolutions, 128 px -> 16, the latent's size.
EMBEDDING_CHANNELS = (8, 16, 32, 32)
LAYOUT_CELL = 16  # pixels per colour cell: 128 px -> 8 x 8 cells
TONE_CELL = 8  # pixels per brightness cell: 16 x 16, one per latent pixel


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luminance of (B, 3, H, W) pictures in [0, 1]."""
    w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True)


def tone_map(rgb: torch.Tensor) -> torch.Tensor:
    """The picture's brightness in cells of ``TONE_CELL`` pixels, grey,
    drawn back at full size: where it is light and where dark, one value
    per latent pixel, no colour. (B, 3, H, W) in [0, 1] -> (B, 3, H, W).
    """
    cells = F.avg_pool2d(luminance(rgb), TONE_CELL)
    tone = F.interpolate(cells, scale_factor=TONE_CELL, mode="nearest")
    return tone.expand(-1, 3, -1, -1).contiguous()


def layout_map(rgb: torch.Tensor) -> torch.Tensor:
    """The picture's mean colour in cells of ``LAYOUT_CELL`` pixels, drawn
    back at full size: a coarse colour-region map. (B, 3, H, W) in [0, 1].
    """
    cells = F.avg_pool2d(rgb, LAYOUT_CELL)
    return F.interpolate(cells, scale_factor=LAYOUT_CELL, mode="nearest")


def control_maps(rgb: torch.Tensor) -> dict[str, torch.Tensor]:
    """Both control images of (B, 3, H, W) pictures in [0, 1]."""
    return {"tone": tone_map(rgb), "layout": layout_map(rgb)}


def load(name: str, dtype=None):
    """One shipped ControlNet, loaded with the real diffusers call."""
    from diffusers import ControlNetModel

    kwargs = {"torch_dtype": dtype} if dtype is not None else {}
    return ControlNetModel.from_pretrained(MODEL_DIRS[name], **kwargs)


def load_pipeline(names=CONTROLS):
    """``StableDiffusionControlNetPipeline`` of the tiny pipeline's parts
    with the named ControlNets (a list of several makes diffusers wrap
    them in a ``MultiControlNetModel``)."""
    from diffusers import StableDiffusionControlNetPipeline

    from infralens.tiny_pipeline import load as load_tiny

    base = load_tiny()
    nets = [load(n) for n in names]
    pipe = StableDiffusionControlNetPipeline(
        **{k: v for k, v in base.components.items()},
        controlnet=nets if len(nets) > 1 else nets[0],
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def cat_picture(size: int = 128) -> torch.Tensor:
    """The held-out cat (never seen by the pipeline or the ControlNets),
    its largest centred square area-resized to ``size``: (1, 3, S, S) in
    [0, 1]. The pages draw their control images from it."""
    from infralens.small_vae import area_resize, center_crop
    from infralens.training_data import held_out_image

    rgb = area_resize(center_crop(held_out_image(), size, size), size, size)
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float()


def layout_error(images: torch.Tensor, layout: torch.Tensor) -> float:
    """How far pictures (B, 3, H, W) in [0, 1] are from a layout map: the
    root-mean-square difference of their cell colours, in [0, 1] units."""
    cells = F.avg_pool2d(images, LAYOUT_CELL)
    target = F.avg_pool2d(layout.expand(len(images), -1, -1, -1), LAYOUT_CELL)
    return float(((cells - target) ** 2).mean().sqrt())


def tone_error(images: torch.Tensor, tone: torch.Tensor) -> float:
    """How far pictures (B, 3, H, W) in [0, 1] are from a tone map: the
    root-mean-square difference of their cell brightness, in [0, 1] units.
    """
    cells = F.avg_pool2d(luminance(images), TONE_CELL)
    target = F.avg_pool2d(
        tone[:, :1].expand(len(images), -1, -1, -1), TONE_CELL
    )
    return float(((cells - target) ** 2).mean().sqrt())
