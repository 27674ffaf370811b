"""The trap, scheduler side: the number of UNet calls is set by the
scheduler's timesteps, not by num_inference_steps alone."""

import warnings

import torch
from diffusers import HeunDiscreteScheduler

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd: its scheduler is a DDIMScheduler
PROMPT = "a photo of a brick wall"


def generate(steps):
    return pipe(
        PROMPT,
        height=128,
        width=128,
        num_inference_steps=steps,
        guidance_scale=3.0,
        generator=torch.Generator().manual_seed(0),
    )


# --8<-- [start:count]
unet_calls = []
pipe.unet.register_forward_hook(lambda m, a, out: unet_calls.append(1))
for scheduler in (pipe.scheduler, HeunDiscreteScheduler):
    with warnings.catch_warnings():  # NumPy 2 warns inside Heun's
        warnings.simplefilter("ignore", DeprecationWarning)  # set_timesteps
        if scheduler is HeunDiscreteScheduler:  # (1)!
            pipe.scheduler = scheduler.from_config(pipe.scheduler.config)
        unet_calls.clear()
        generate(steps=2)
    print(
        f"{type(pipe.scheduler).__name__:<22} num_inference_steps=2: "
        f"{len(pipe.scheduler.timesteps)} timesteps, "
        f"unet ran {len(unet_calls)}x"
    )
# --8<-- [end:count]

assert len(unet_calls) == len(pipe.scheduler.timesteps) == 3
glue("heun_calls", len(unet_calls))
