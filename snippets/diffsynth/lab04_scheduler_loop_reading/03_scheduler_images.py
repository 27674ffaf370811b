"""The same prompts, seeds and step count through four schedulers built
from the model's own config: do they all draw what was asked?"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
)

from infralens import glue, save_figure
from infralens.pipeline_eval import names, nearest_image, reference_crops
from infralens.tiny_pipeline import load, prompt

warnings.filterwarnings(  # diffusers' np.array(tensor) under numpy 2
    "ignore", "__array__ implementation doesn't accept a copy"
)
torch.set_num_threads(1)  # one thread: steadier on a shared CPU
pipe = load()
config = pipe.scheduler.config
subjects = ["brick", "rocket"]
steps, g = 10, 3.0

# --8<-- [start:images]
schedulers = {
    "DDIM": DDIMScheduler.from_config(config),
    "Euler": EulerDiscreteScheduler.from_config(config),
    "DPM++ 2M": DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++"
    ),
    "DPM++ 2M Karras": DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++", use_karras_sigmas=True
    ),
}


def draw(sched):
    pipe.scheduler = sched  # the only thing that changes
    return pipe(
        [prompt(s) for s in subjects],  # "a photo of a brick wall", ...
        num_inference_steps=steps,
        guidance_scale=g,
        generator=[torch.Generator().manual_seed(0) for _ in subjects],
        output_type="np",
    ).images  # (2, 128, 128, 3) in [0, 1]


images = {name: draw(sched) for name, sched in schedulers.items()}
# --8<-- [end:images]

# --8<-- [start:compare]
crops = reference_crops(stride=64)  # training images as 128 px crops
print("scheduler        nearest training image     max |diff| vs DDIM")
for name, im in images.items():
    found = [names()[i] for i in nearest_image(im, crops)]
    diff = 255 * np.abs(im - images["DDIM"]).max()  # in 0..255 levels
    print(f"{name:<16} {', '.join(found):<26} {diff:>6.1f}")
# --8<-- [end:compare]

# --8<-- [start:figure]
fig, axes = plt.subplots(2, 4, figsize=(7, 3.9))
for col, (name, im) in enumerate(images.items()):
    for row in (0, 1):
        axes[row, col].imshow(im[row])
        axes[row, col].set_axis_off()
    axes[0, col].set_title(name, fontsize=10)
fig.tight_layout()
gaps = ", ".join(
    f"{name} {255 * np.abs(im - images['DDIM']).max():.1f}"
    for name, im in images.items()
    if name != "DDIM"
)
save_figure(
    fig,
    "four_schedulers_10_steps.png",
    alt=f"Two rows of {len(images)} images, one seed, {steps} steps, "
    f"guidance {g}: top row '{prompt(subjects[0])}', bottom row "
    f"'{prompt(subjects[1])}'; one column per scheduler: "
    f"{', '.join(images)}. Every image's nearest training image is its "
    "own caption's, and the largest pixel difference from DDIM, in 0 to "
    f"255 levels, is {gaps}.",
)
# --8<-- [end:figure]

# --8<-- [start:same_step]
ddim_to_zero = DDIMScheduler.from_config(config, set_alpha_to_one=True)
end = draw(ddim_to_zero)  # DDIM's last step now lands on sigma 0 too
gap = 255 * np.abs(images["Euler"] - images["DDIM"]).max()
gap_end = 255 * np.abs(images["Euler"] - end).max()
print(f"Euler vs DDIM: {gap:.1f} levels; with set_alpha_to_one: {gap_end:.1f}")
# --8<-- [end:same_step]

matched = {
    k: [names()[i] for i in nearest_image(im, crops)] == subjects
    for k, im in images.items()
}
assert all(matched.values())
assert gap_end < gap < 10  # DDIM and Euler: the same update in other units
glue("euler_diff", f"{gap:.1f}")
glue("euler_diff_end", f"{gap_end:.1f}")
karras = images["DPM++ 2M Karras"]
glue("karras_diff", f"{255 * np.abs(karras - images['DDIM']).max():.0f}")
