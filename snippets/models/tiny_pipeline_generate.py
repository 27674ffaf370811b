"""Load the shipped pipeline with the real diffusers call and draw one
image for one caption."""

import torch

from infralens import glue, save_image
from infralens.tiny_pipeline import load, weight_files

# --8<-- [start:load]
pipe = load()  # DiffusionPipeline.from_pretrained("models/tiny-sd")
print(type(pipe).__name__)
for name, part in pipe.components.items():
    if isinstance(part, torch.nn.Module):
        n = sum(p.numel() for p in part.parameters())
        print(f"{name:<13} {type(part).__name__:<21} {n:>9,} params")
    elif part is not None:
        print(f"{name:<13} {type(part).__name__}")
# --8<-- [end:load]

# --8<-- [start:generate]
image = pipe(
    "a photo of a brick wall",
    num_inference_steps=20,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="np",
).images[0]  # (128, 128, 3) floats in [0, 1]
print("image:", image.shape, image.dtype)
save_image(
    image,
    "a_photo_of_a_brick_wall_seed_0.png",
    alt=f"The {image.shape[0]}x{image.shape[1]} image drawn for 'a photo "
    "of a brick wall' with seed 0: a blurry grey wall of upright bricks "
    "with pale mortar lines",
)
# --8<-- [end:generate]

files = weight_files()  # unet, text encoder, and the linked small VAE
total_mb = sum(p.stat().st_size for p in files) / 1e6
assert len(files) == 3
assert image.shape == (128, 128, 3)
assert total_mb <= 20
glue("weights_mb", f"{total_mb:.1f}")
glue("unet_params", f"{sum(p.numel() for p in pipe.unet.parameters()):,}")
