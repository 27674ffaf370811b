"""Encode: the posterior, sample versus mode, and how much smaller z is."""

import torch

from infralens import glue
from infralens.small_vae import cat_image, load

vae = load()
image = cat_image()  # (1, 3, 128, 192) in [-1, 1]

# --8<-- [start:posterior]
with torch.no_grad():
    posterior = vae.encode(image).latent_dist  # (1)!
mean, std = posterior.mean, posterior.std
print("mean:", tuple(mean.shape))  # (B, 4, H/8, W/8)
print("std: ", tuple(std.shape))
print(f"typical std: {std.median():.4f}")
# --8<-- [end:posterior]

# --8<-- [start:sample]
gen = torch.Generator().manual_seed(0)
z_sample = posterior.sample(generator=gen)  # mean + std * noise
z_mode = posterior.mode()  # the mean, no noise
gap = (z_sample - z_mode).abs().max().item()
print(f"max |sample - mode|: {gap:.4f}")
# --8<-- [end:sample]

# --8<-- [start:count]
n_pixels, n_latent = image.numel(), z_mode.numel()
print(f"image numbers:  {n_pixels:,}")
print(f"latent numbers: {n_latent:,}")
print(f"ratio: {n_pixels / n_latent:.0f}x fewer numbers in z")
# --8<-- [end:count]

assert z_mode.shape == (1, 4, 16, 24)
assert torch.equal(z_mode, mean)
glue("latent_shape", tuple(z_mode.shape))
glue("ratio", f"{n_pixels / n_latent:.0f}")
glue("sample_gap", f"{gap:.3f}")
