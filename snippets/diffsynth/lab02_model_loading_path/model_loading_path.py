# %% [markdown]
# # Lab 02 starter: model loading path
#
# Trace `DiffusionPipeline.from_pretrained` component by component: the
# class each name became, how long it took, and where each model's
# parameters ended up (dtype, device, bytes). Every line runs; the outputs
# below come from the build of this site.

# %%
import time

import torch
from diffusers import DiffusionPipeline
from diffusers.pipelines import pipeline_utils
from diffusers.utils import logging as diffusers_logging
from transformers.utils import logging as transformers_logging

from infralens.tiny_pipeline import MODEL_DIR

PIPELINE_SOURCE = MODEL_DIR  # (1)!
DTYPE = None  # (2)!
diffusers_logging.disable_progress_bar()  # quiet loading bars
transformers_logging.disable_progress_bar()

# %%
load_sub_model = pipeline_utils.load_sub_model
trace = []


def traced(**kwargs):  # (3)!
    start = time.perf_counter()
    component = load_sub_model(**kwargs)
    ms = 1000 * (time.perf_counter() - start)
    trace.append((kwargs["name"], kwargs["class_name"], kwargs["dtype"], ms))
    return component


pipeline_utils.load_sub_model = traced
pipe = DiffusionPipeline.from_pretrained(PIPELINE_SOURCE, dtype=DTYPE)
pipeline_utils.load_sub_model = load_sub_model  # put the original back
for name, class_name, dtype, ms in trace:
    print(f"{name:<13}{class_name:<22}asked dtype={dtype}  {ms:5.0f} ms")

# %%
for name, component in pipe.components.items():
    if isinstance(component, torch.nn.Module):  # (4)!
        params = list(component.parameters())
        n = sum(p.numel() for p in params)
        mb = sum(p.numel() * p.element_size() for p in params) / 1e6
        print(
            f"{name:<13}{str(component.dtype):<16}{component.device.type:<5}"
            f"{n:>10,} params {mb:6.2f} MB"
        )
    elif component is not None:
        print(f"{name:<13}{type(component).__name__}, no parameters")
print("pipe.dtype:", pipe.dtype, "| pipe.device:", pipe.device)

# %% [markdown]
# All of it is resident now. A short call uses every model once or more:

# %%
pipe.set_progress_bar_config(disable=True)
image = pipe(
    "a photo of a brick wall",
    num_inference_steps=4,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
).images[0]  # (5)!
print("image:", image.size)
