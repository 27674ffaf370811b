# %% [markdown]
# # Lab 07 starter: VAE encode and decode
#
# Encode a photo into latents, scale them the way a pipeline does, then
# unscale and decode. The denoising loop would sit between the two halves.
# Every line runs; the outputs below come from the build of this site.

# %%
import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL
from skimage import data

from infralens.small_vae import MODEL_DIR

VAE_SOURCE = MODEL_DIR  # (1)!
vae = AutoencoderKL.from_pretrained(VAE_SOURCE).eval()
cfg = vae.config
factor = 2 ** (len(cfg.block_out_channels) - 1)
scale = cfg.scaling_factor
shift = cfg.shift_factor or 0.0  # (2)!
print(
    f"x{factor}, {cfg.latent_channels} channels, scale {scale}, shift {shift}"
)

# %%
rgb = torch.from_numpy(data.chelsea() / 255.0).float()  # (300, 451, 3)
rgb = rgb.permute(2, 0, 1)[None]  # (1, 3, 300, 451)
height, width = 128, 192  # (3)!
image = F.interpolate(rgb, size=(height, width), mode="area") * 2 - 1
print(
    "image:",
    tuple(image.shape),
    f"range [{image.min():.2f}, {image.max():.2f}]",
)

# %%
with torch.no_grad():
    posterior = vae.encode(image).latent_dist
    z = posterior.mode()  # (4)!
latents = (z - shift) * scale  # (5)!
print("latents:", tuple(latents.shape), f"std {latents.std():.3f}")

# %% [markdown]
# A diffusion model's denoising loop would run here, on `latents` alone:
# many steps, same shape, no pixels.

# %%
with torch.no_grad():
    decoded = vae.decode(latents / scale + shift).sample  # (6)!
decoded = decoded.clamp(-1, 1)
mse = torch.mean((decoded - image) ** 2).item()
print("decoded:", tuple(decoded.shape))
print(f"PSNR: {10 * np.log10(4 / mse):.2f} dB")
