# %% [markdown]
# # Lab 01 starter: pipeline config reading
#
# Read a diffusers pipeline folder the way the loader reads it: the index
# first, then each component's config, then the call. Change one scheduler
# field and watch the picture change. Every line runs; the outputs below
# come from the build of this site.

# %%
import json
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import logging as diffusers_logging
from transformers.utils import logging as transformers_logging

from infralens.tiny_pipeline import MODEL_DIR

PIPELINE_SOURCE = Path(MODEL_DIR)  # (1)!
index = json.loads((PIPELINE_SOURCE / "model_index.json").read_text())
components = {
    name: value
    for name, value in index.items()
    if isinstance(value, list) and value[0] is not None  # (2)!
}
print(index["_class_name"], "with", list(components))

# %%
sched_cfg = json.loads(
    (PIPELINE_SOURCE / "scheduler" / "scheduler_config.json").read_text()
)
for key in ("prediction_type", "timestep_spacing", "rescale_betas_zero_snr"):
    print(f"{key:<24}{sched_cfg[key]}")

# %%
diffusers_logging.disable_progress_bar()  # quiet loading bars
transformers_logging.disable_progress_bar()
pipe = DiffusionPipeline.from_pretrained(PIPELINE_SOURCE)  # (3)!
pipe.set_progress_bar_config(disable=True)
for name, (library, class_name) in components.items():
    obj = getattr(pipe, name)
    assert type(obj).__name__ == class_name
    print(f"{name:<13}{library}.{class_name}")
print("type(pipe):", type(pipe).__name__)

# %%
unet_calls = []
pipe.unet.register_forward_pre_hook(lambda m, a: unet_calls.append(1))
image = pipe(
    "a photo of a brick wall",
    num_inference_steps=20,  # (4)!
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="np",
).images[0]  # (128, 128, 3) in [0, 1]
print("image:", image.shape, "| UNet calls:", len(unet_calls))
print("timesteps:", pipe.scheduler.timesteps[:3].tolist(), "...")

# %% [markdown]
# Now change one field of the scheduler's config and run the same call,
# same seed, again.

# %%
pipe.scheduler = DDIMScheduler.from_config(
    pipe.scheduler.config,
    timestep_spacing="leading",  # (5)!
)
again = pipe(
    "a photo of a brick wall",
    num_inference_steps=20,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="np",
).images[0]
print("timesteps:", pipe.scheduler.timesteps[:3].tolist(), "...")
mse = np.mean((again - image) ** 2)
print(f"PSNR against the first image: {10 * np.log10(1 / mse):.1f} dB")
