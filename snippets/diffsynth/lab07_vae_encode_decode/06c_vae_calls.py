"""How often each diffusers pipeline runs the VAE's encoder and decoder,
counted by forward hooks on the real modules of the tiny pipeline."""

import torch
from diffusers import (
    StableDiffusionImg2ImgPipeline,
    StableDiffusionInpaintPipeline,
)

from infralens import glue
from infralens.small_vae import cat_image
from infralens.tiny_pipeline import load

# --8<-- [start:hooks]
pipe = load()  # models/tiny-sd: a StableDiffusionPipeline, 4-channel UNet
calls = {"encoder": 0, "decoder": 0}


def count(name):
    def hook(module, args, out):
        calls[name] += 1  # runs when the real module runs

    return hook


for name in calls:
    getattr(pipe.vae, name).register_forward_hook(count(name))
# --8<-- [end:hooks]

# --8<-- [start:calls]
image = (cat_image() + 1) / 2  # (1, 3, 128, 192) in [0, 1]
mask = torch.zeros(1, 1, 128, 192)
mask[..., 32:96, 64:128] = 1  # repaint the middle
runs = {
    "text-to-image": (pipe, {"height": 128, "width": 192}),
    "image-to-image": (
        StableDiffusionImg2ImgPipeline(
            **pipe.components, requires_safety_checker=False
        ),
        {"image": image, "strength": 0.5},
    ),
    "inpainting": (
        StableDiffusionInpaintPipeline(
            **pipe.components, requires_safety_checker=False
        ),
        {"image": image, "mask_image": mask, "strength": 0.5},
    ),
}
counted = {}
for task, (p, inputs) in runs.items():
    calls.update(encoder=0, decoder=0)
    p.set_progress_bar_config(disable=True)
    p("grass", num_inference_steps=4, output_type="pt", **inputs)
    counted[task] = dict(calls)
    print(
        f"{task:<15} encoder {calls['encoder']}x, decoder {calls['decoder']}x"
    )
# --8<-- [end:calls]

assert counted["text-to-image"] == {"encoder": 0, "decoder": 1}
assert counted["image-to-image"] == {"encoder": 1, "decoder": 1}
assert counted["inpainting"]["encoder"] == 2  # image and masked image
glue("inpaint_encodes", counted["inpainting"]["encoder"])
