"""Decode and compare: reconstruction quality, pictures of z."""

import matplotlib.pyplot as plt
import torch

from infralens import glue, save_figure
from infralens.small_vae import cat_image, load, psnr, to_rgb

vae = load()
image = cat_image()  # (1, 3, 128, 192)

# --8<-- [start:decode]
s = vae.config.scaling_factor
with torch.no_grad():
    latents = vae.encode(image).latent_dist.mode() * s  # (1, 4, 16, 24)
    recon = vae.decode(latents / s).sample  # (1, 3, 128, 192)
recon = recon.clamp(-1, 1)
print("recon:", tuple(recon.shape))
print(f"PSNR: {psnr(image, recon):.2f} dB")
# --8<-- [end:decode]

# --8<-- [start:figure]
fig, axes = plt.subplots(2, 4, figsize=(10, 4.2))
diff = (image - recon).abs().mean(1)[0]
panels = [to_rgb(image), to_rgb(recon), diff.numpy()]
titles = ["input", "reconstruction", "|difference|"]
for ax, pic, title in zip(axes[0, :3], panels, titles, strict=True):
    ax.imshow(pic, cmap="magma" if pic.ndim == 2 else None)
    ax.set_title(title)
for c, ax in enumerate(axes[1]):
    ax.imshow(latents[0, c].numpy(), cmap="coolwarm")
    ax.set_title(f"latent channel {c}")
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
save_figure(
    fig,
    "reconstruction.png",
    alt=f"Top row: the {image.shape[2]}x{image.shape[3]} cat photo, its "
    f"reconstruction after encode and decode, softer and less detailed "
    f"({psnr(image, recon):.1f} dB PSNR), and the absolute difference, "
    "brightest around the eyes and along the edges of the fur. Bottom "
    f"row: the {latents.shape[1]} latent channels, each "
    f"{latents.shape[2]}x{latents.shape[3]}, as blue-to-red heat maps.",
)
# --8<-- [end:figure]

# --8<-- [start:detail]
# Where does the error sit? Compare it with the image's local detail
# (gradient magnitude), pixel by pixel.
gray = image.mean(1)[0]
gy, gx = torch.gradient(gray)
detail = (gx**2 + gy**2).sqrt()
r = torch.corrcoef(torch.stack([diff.flatten(), detail.flatten()]))[0, 1]
print(f"correlation of |difference| with image detail: r = {r:.2f}")
# --8<-- [end:detail]

assert psnr(image, recon) >= 24.0
assert r > 0.3  # the error follows the detail
glue("psnr", f"{psnr(image, recon):.1f}")
glue("detail_r", f"{r:.2f}")
