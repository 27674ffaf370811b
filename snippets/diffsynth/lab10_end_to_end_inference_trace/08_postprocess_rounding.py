"""Postprocessing is part of the contract: diffusers rounds to 8 bits,
DiffSynth-Studio's image conversion truncates."""

import torch

from infralens import glue
from infralens.small_vae import cat_image, load

vae = load()  # the small VAE, which is the tiny pipeline's vae/
with torch.no_grad():
    z = vae.encode(cat_image()).latent_dist.mode()  # (1, 4, 16, 24)
    x = vae.decode(z).sample  # (1, 3, 128, 192), floats near [-1, 1]

# --8<-- [start:rounding]
# diffusers: VaeImageProcessor.denormalize, then numpy_to_pil
rounded = ((x * 0.5 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
# DiffSynth-Studio 2.1.2: BasePipeline.vae_output_to_image, min -1, max 1
truncated = ((x + 1) * (255 / 2)).clip(0, 255).to(torch.uint8)
gap = rounded.int() - truncated.int()
print(f"values that differ: {(gap != 0).float().mean():.1%}")
print(f"largest difference: {gap.abs().max()} level of 255")
print(f"mean difference: {gap.float().mean():.2f} levels")
# --8<-- [end:rounding]

assert gap.min() >= 0 and gap.max() == 1
glue("differ_pct", f"{100 * (gap != 0).float().mean():.0f}")
