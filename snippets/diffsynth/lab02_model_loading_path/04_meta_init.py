"""Meta-device initialisation: where each model's parameters live at the
moment its constructor returns inside from_pretrained, with and without
low_cpu_mem_usage, and a full-size UNet built with no memory at all."""

import functools
import time

import torch
from diffusers import AutoencoderKL, DiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel

from infralens import glue
from infralens.tiny_pipeline import MODEL_DIR

# --8<-- [start:spy]
built = []  # (class, device of its parameters when __init__ returned)


def spy(cls):
    init = cls.__init__

    @functools.wraps(init)  # (1)!
    def recorded(self, *args, **kwargs):
        init(self, *args, **kwargs)
        built.append((cls.__name__, next(self.parameters()).device.type))

    cls.__init__ = recorded


CLASSES = (CLIPTextModel, UNet2DConditionModel, AutoencoderKL)
for cls in CLASSES:
    spy(cls)
# --8<-- [end:spy]

# --8<-- [start:compare]
seconds, runs = {}, {}
print(f"{'':<24}{'CLIPTextModel':<15}{'UNet2D...':<11}{'AutoencoderKL':<15}")
for low in (True, False):  # (2)!
    built.clear()
    start = time.perf_counter()
    pipe = DiffusionPipeline.from_pretrained(MODEL_DIR, low_cpu_mem_usage=low)
    seconds[low] = time.perf_counter() - start
    runs[low] = dict(built)
    row = [runs[low][c.__name__] for c in CLASSES]
    print(
        f"low_cpu_mem_usage={low!s:<6}{row[0]:<15}{row[1]:<11}{row[2]:<15}"
        f"{1000 * seconds[low]:.0f} ms"
    )
devices = {p.device.type for p in pipe.unet.parameters()}
print("after loading, the unet's parameters are on", devices)
# --8<-- [end:compare]

# --8<-- [start:full_size]
with torch.device("meta"):  # architecture only: no weights, no memory
    sd_unet = UNet2DConditionModel(cross_attention_dim=768, sample_size=64)
n = sum(p.numel() for p in sd_unet.parameters())  # Stable Diffusion 1.x
print(
    f"SD 1.x UNet: {n:,} parameters, all on",
    {p.device.type for p in sd_unet.parameters()},
)
print(
    f"as float32 it would need {4 * n / 2**30:.2f} GiB, "
    f"as float16 {2 * n / 2**30:.2f} GiB"
)
# --8<-- [end:full_size]

on = runs[False]
assert on["UNet2DConditionModel"] == "cpu" and on["AutoencoderKL"] == "cpu"
assert on["CLIPTextModel"] == "meta"
assert n > 8 * 10**8
glue("ms_low", f"{1000 * seconds[True]:.0f}")
glue("ms_full", f"{1000 * seconds[False]:.0f}")
glue("sd_params", f"{n / 1e6:.0f}")
glue("sd_gib", f"{4 * n / 2**30:.1f}")
