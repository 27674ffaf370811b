"""The scale: bring latents to unit std before the diffusion model."""

import json

import torch

from infralens import glue
from infralens.small_vae import MODEL_DIR, cat_image, image_set, load

vae = load()
gen = torch.Generator().manual_seed(0)
with torch.no_grad():
    z = vae.encode(cat_image()).latent_dist.sample(generator=gen)

# --8<-- [start:scale]
s = vae.config.scaling_factor
latents = z * s  # what the denoiser sees
print(f"raw z std:     {z.std():.3f}")
print(f"scaled std:    {latents.std():.3f}  (scaling_factor {s})")
# --8<-- [end:scale]

# --8<-- [start:set]
names, images = image_set(128, 192)  # every packaged image, 128x192
with torch.no_grad():
    zs = vae.encode(images).latent_dist.sample(generator=gen) * s
per_image = zs.flatten(1).std(dim=1)
print(f"{len(names)} images, scaled std of all latents: {zs.std():.3f}")
ranked = sorted(zip(per_image.tolist(), names, strict=True))
for std, name in ranked:
    print(f"  {name:<22} {std:.3f}")
# --8<-- [end:set]

# --8<-- [start:measured]
log = json.loads((MODEL_DIR / "training_log.json").read_text())
batch = log["scaling_batch"]
print(
    f"measured on {batch['images']} training crops of "
    f"{batch['crop']}x{batch['crop']}:"
)
print(f"  posterior sample std = {batch['latent_std']}")
print(f"  1 / std              = {1 / batch['latent_std']:.5f}")
print(f"  stored in config     = {s}")
# --8<-- [end:measured]

# --8<-- [start:borrowed]
sd_scale = 0.18215  # Stable Diffusion 1.x, from its v1-inference.yaml
borrowed = z * sd_scale  # SD's factor on THIS VAE's latent (no SD here)
print(f"this VAE's z with SD's 0.18215: std {borrowed.std():.3f}")
# --8<-- [end:borrowed]

assert abs(zs.std().item() - 1) < 0.1  # the set is near unit std
assert per_image.max() - per_image.min() > 0.3  # single images are not
assert abs(1 / batch["latent_std"] - s) < 1e-4
glue("raw_std", f"{z.std():.2f}")
glue("scaled_std", f"{latents.std():.2f}")
glue("set_std", f"{zs.std():.2f}")
glue("set_images", len(names))
glue("set_min", f"{per_image.min():.2f}")
glue("set_max", f"{per_image.max():.2f}")
glue("borrowed_std", f"{borrowed.std():.2f}")
glue("scale_batch_std", batch["latent_std"])
