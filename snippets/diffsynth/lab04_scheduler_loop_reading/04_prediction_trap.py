"""The trap: a scheduler told the wrong prediction type. The UNet was
trained to predict the velocity v; the scheduler turns whatever it
predicts into the next latents with the formula for its own type."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from diffusers import (
    DDIMScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
)

from infralens import glue, save_figure
from infralens.pipeline_eval import names, nearest_image, reference_crops
from infralens.tiny_pipeline import load, prompt

warnings.filterwarnings(  # diffusers' np.array(tensor) under numpy 2
    "ignore", "__array__ implementation doesn't accept a copy"
)
torch.set_num_threads(1)  # one thread: steadier on a shared CPU
pipe = load()
config = pipe.scheduler.config  # prediction_type="v_prediction"
text = prompt("brick")  # "a photo of a brick wall"
steps, g = 10, 3.0


def draw(sched):
    pipe.scheduler = sched
    return pipe(
        text,
        num_inference_steps=steps,
        guidance_scale=g,
        generator=torch.Generator().manual_seed(0),
        output_type="np",
    ).images[0]  # (128, 128, 3) in [0, 1], or NaN


# --8<-- [start:mismatch]
images = {
    "DDIM, v (trained)": draw(DDIMScheduler.from_config(config)),
    "DDIM, epsilon": draw(
        DDIMScheduler.from_config(config, prediction_type="epsilon")
    ),
    "Euler, epsilon": draw(
        EulerDiscreteScheduler.from_config(config, prediction_type="epsilon")
    ),
    "DDIM, sample": draw(
        DDIMScheduler.from_config(config, prediction_type="sample")
    ),
}
crops = reference_crops(stride=64)  # training images as 128 px crops
right = images["DDIM, v (trained)"]


def db(im):  # PSNR against the trained scheduler's picture, in dB
    return 10 * np.log10(1 / np.mean((im - right) ** 2))


print(f"{'scheduler, prediction':<22} NaN  {'nearest image':<20} PSNR vs v")
for name, im in images.items():
    found = names()[nearest_image(np.nan_to_num(im)[None], crops)[0]]
    nan = np.isnan(im).mean()
    score = "-" if nan or im is right else f"{db(im):.1f} dB"
    found = "-" if nan else found
    print(f"{name:<22} {nan:>4.0%}  {found:<20} {score}")
# --8<-- [end:mismatch]

# --8<-- [start:flow]
flow = FlowMatchEulerDiscreteScheduler()
try:
    draw(flow)
except AttributeError as err:
    print("pipe(...) with FlowMatchEulerDiscreteScheduler:", err)
flow.set_timesteps(steps)  # sigmas 1.0 ... 0.001, then 0
with torch.no_grad():
    cond, uncond = pipe.encode_prompt(text, "cpu", 1, True)
    emb = torch.cat([uncond, cond])  # (2, 16, 64)
    gen = torch.Generator().manual_seed(0)
    latents = torch.randn((1, 4, 16, 16), generator=gen)  # sigma 1: noise
    for t in flow.timesteps:  # 1000, 889, ... as floats
        v = pipe.unet(torch.cat([latents] * 2), t, emb).sample.chunk(2)
        v = v[0] + g * (v[1] - v[0])  # the UNet's v, read as flow's
        latents = flow.step(v, t, latents).prev_sample  # x + dsigma * v
    z = latents / pipe.vae.config.scaling_factor
    out = pipe.vae.decode(z).sample[0].permute(1, 2, 0)  # (128, 128, 3)
images["FlowMatch, by hand"] = (out / 2 + 0.5).clamp(0, 1).numpy()
found = names()[nearest_image(images["FlowMatch, by hand"][None], crops)[0]]
flow_db = db(images["FlowMatch, by hand"])
print(f"stepped by hand instead: nearest image {found}, {flow_db:.1f} dB")
# --8<-- [end:flow]

# --8<-- [start:figure]
fig, axes = plt.subplots(1, 5, figsize=(10, 2.5))
panels = []  # what each panel shows, for the text alternative
for ax, (name, im) in zip(axes, images.items(), strict=True):
    ax.imshow(np.nan_to_num(im))  # NaN drawn as black
    ax.set_title(name, fontsize=9)
    ax.set_axis_off()
    nearest = names()[nearest_image(np.nan_to_num(im)[None], crops)[0]]
    if np.isnan(im).all():
        panels.append(f"{name}: every pixel NaN, drawn black")
    elif im is right:
        panels.append(f"{name}: nearest training image {nearest}")
    else:
        panels.append(f"{name}: nearest {nearest}, {db(im):.1f} dB")
fig.tight_layout()
save_figure(
    fig,
    "prediction_type_trap.png",
    alt=f"A row of {len(images)} images for '{text}', one seed, {steps} "
    "steps, each titled with its scheduler and prediction type; dB is "
    "PSNR against the first. " + "; ".join(panels) + ".",
)
# --8<-- [end:figure]

found = {
    k: names()[nearest_image(np.nan_to_num(im)[None], crops)[0]]
    for k, im in images.items()
}
assert found["DDIM, v (trained)"] == "brick"
assert np.isnan(images["DDIM, epsilon"]).all()
assert found["Euler, epsilon"] != "brick" != found["DDIM, sample"]
assert found["FlowMatch, by hand"] == "brick"  # survives, degraded:
assert db(images["Euler, epsilon"]) < flow_db < 30
glue("euler_eps_found", found["Euler, epsilon"])
glue("euler_eps_db", f"{db(images['Euler, epsilon']):.1f}")
glue("flow_db", f"{flow_db:.1f}")
glue("sample_found", found["DDIM, sample"])
