"""Pixels in, tensor out: the range and shape the encoder expects."""

import numpy as np
import torch
from diffusers.image_processor import VaeImageProcessor
from PIL import Image
from skimage import data

from infralens import glue
from infralens.small_vae import area_resize, load

# --8<-- [start:tensor]
rgb = data.chelsea().astype(np.float32) / 255.0  # (300, 451, 3) in [0, 1]
rgb = area_resize(rgb, 128, 192)  # (128, 192, 3)
image = torch.from_numpy(rgb).permute(2, 0, 1)[None]  # (1, 3, 128, 192)
image = image * 2 - 1  # [0, 1] -> [-1, 1]
print("shape:", tuple(image.shape), image.dtype)
print(f"range: [{image.min():.2f}, {image.max():.2f}]")
# --8<-- [end:tensor]

# --8<-- [start:processor]
processor = VaeImageProcessor(vae_scale_factor=8)
full = data.chelsea().astype(np.float32) / 255.0
odd = area_resize(full, 130, 190)  # 130 x 190: neither a multiple of 8
odd = Image.fromarray((odd * 255).round().astype(np.uint8))
x = processor.preprocess(odd)  # (1, 3, H, W), H and W rounded down to 8k
print("PIL size (W, H):", odd.size)
print("preprocessed:   ", tuple(x.shape))
print(f"range: [{x.min():.2f}, {x.max():.2f}]")
# --8<-- [end:processor]

# --8<-- [start:trap]
vae = load()
raw = image[:, :, :126, :190]  # 126 x 190: not multiples of 8
with torch.no_grad():
    z = vae.encode(raw).latent_dist.mode()
    back = vae.decode(z).sample
print("in: ", tuple(raw.shape))
print("z:  ", tuple(z.shape))
print("out:", tuple(back.shape), "<- not the input size")
# --8<-- [end:trap]

assert image.shape == (1, 3, 128, 192) and image.min() >= -1
assert odd.size == (190, 130) and x.shape[-2:] == (128, 184)
assert back.shape[-2:] != raw.shape[-2:]
glue("odd_out", f"{back.shape[-2]} x {back.shape[-1]}")
glue("odd_in", f"{odd.height} x {odd.width}")
glue("odd_processed", f"{x.shape[-2]} x {x.shape[-1]}")
