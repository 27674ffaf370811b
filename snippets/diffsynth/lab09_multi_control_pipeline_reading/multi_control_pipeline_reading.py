# %% [markdown]
# # Lab 09 starter: multi-control pipeline reading
#
# Two ControlNets, one reading a brightness map and one a colour layout,
# steer the tiny pipeline together, each with its own weight and its own
# window of steps. A hook on each ControlNet records what it adds to the
# UNet at every step. Every line runs; the outputs below come from the
# build of this site.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

from infralens import glue, save_figure, save_image
from infralens.controls import MODEL_DIRS, cat_picture, control_maps
from infralens.tiny_pipeline import load

base = load()  # models/tiny-sd: tokenizer, text encoder, UNet, VAE
names = ("tone", "layout")
nets = [ControlNetModel.from_pretrained(MODEL_DIRS[n]) for n in names]
pipe = StableDiffusionControlNetPipeline(
    **base.components,
    controlnet=nets,  # (1)!
    requires_safety_checker=False,
)
pipe.set_progress_bar_config(disable=True)
print("controlnet:", type(pipe.controlnet).__name__, len(nets), "nets")

# %%
cat = cat_picture()  # (1, 3, 128, 128) in [0, 1], never trained on
maps = control_maps(cat)  # (2)!
print({n: tuple(m.shape) for n, m in maps.items()})

# %%
trace = []  # (control, scale it was given, residual RMS), one per call


def record(name):
    def hook(module, args, kwargs, output):  # (3)!
        down, mid = output  # 6 skip residuals and 1 mid residual
        flat = torch.cat([r.flatten() for r in (*down, mid)])
        rms = flat.square().mean().sqrt().item()
        trace.append((name, kwargs["conditioning_scale"], rms))

    return hook


for name, net in zip(names, nets, strict=True):
    net.register_forward_hook(record(name), with_kwargs=True)

# %%
steps = 10
image = pipe(
    "a photo of a brick wall",
    image=[maps["tone"], maps["layout"]],  # one per ControlNet
    controlnet_conditioning_scale=[0.7, 0.5],  # (4)!
    control_guidance_start=[0.0, 0.2],  # (5)!
    control_guidance_end=[0.8, 1.0],
    num_inference_steps=steps,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="np",
).images[0]  # (128, 128, 3) in [0, 1]

# %%
print("step   tone: scale   RMS   layout: scale   RMS")
per_step = list(
    zip(trace[0::2], trace[1::2], strict=True)
)  # (tone, layout) per step
for i, (tn, lo) in enumerate(per_step):
    print(f"{i:>4} {tn[1]:>12.1f} {tn[2]:>6.3f} {lo[1]:>14.1f} {lo[2]:>6.3f}")

# %%
rms = np.array([[tn[2], lo[2]] for tn, lo in per_step])  # (steps, 2)
fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
x = np.arange(steps)
ax.bar(x - 0.2, rms[:, 0], 0.4, label="tone (0.7, steps 0-80%)")
ax.bar(x + 0.2, rms[:, 1], 0.4, label="layout (0.5, steps 20-100%)")
ax.set_xlabel("denoising step")
ax.set_ylabel("residual RMS added")
ax.set_xticks(x)
ax.legend(fontsize=8)
off = [
    f"{n} at steps {[int(i) for i in x if rms[i, k] == 0]}"
    for k, n in enumerate(names)
]
save_figure(
    fig,
    "residuals.png",
    alt="Bar chart of the residual RMS each ControlNet added at each of "
    f"the {steps} steps. It is exactly zero for {off[0]} and for "
    f"{off[1]}; elsewhere tone adds between {rms[:8, 0].min():.3f} and "
    f"{rms[:8, 0].max():.3f}, layout between {rms[2:, 1].min():.3f} and "
    f"{rms[2:, 1].max():.3f}.",
)

# %%
strip = np.concatenate(
    [
        cat[0].permute(1, 2, 0).numpy(),
        maps["tone"][0].permute(1, 2, 0).numpy(),
        maps["layout"][0].permute(1, 2, 0).numpy(),
        image,
    ],
    axis=1,
)
save_image(
    strip,
    "controlled.png",
    alt="Four 128-pixel squares: the held-out cat photo, its 16 by 16 "
    "brightness map in grey, its 8 by 8 colour layout, and the picture "
    "the pipeline drew for 'a photo of a brick wall' under both controls.",
)

# %% [markdown]
# The checks this page's prose relies on.

# %%
assert len(trace) == 2 * steps  # both nets ran at every step
tone_off = [i for i in range(steps) if rms[i, 0] == 0]
layout_off = [i for i in range(steps) if rms[i, 1] == 0]
assert tone_off == [8, 9] and layout_off == [0, 1]  # the windows
assert rms[0, 0] > rms[7, 0]  # tone residuals shrink as steps pass
glue("steps", steps)
glue("calls", len(trace))
glue("tone_off", " and ".join(map(str, tone_off)))
glue("layout_off", " and ".join(map(str, layout_off)))
glue("tone_first", f"{rms[0, 0]:.3f}")
glue("tone_last", f"{rms[7, 0]:.3f}")
