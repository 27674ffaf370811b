"""Same two controls, different prompts: the controls keep where light,
dark and colour go, the prompt still decides what is drawn."""

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from infralens import glue, save_figure
from infralens.controls import (
    TONE_CELL,
    cat_picture,
    control_maps,
    layout_error,
    load_pipeline,
    tone_error,
)

pipe = load_pipeline(("tone", "layout"))
maps = control_maps(cat_picture())

# --8<-- [start:prompts]
prompts = [
    "",
    "a photo of a brick wall",
    "a photo of grass",
    "a photo of galaxies in deep space",
]
out = pipe(
    prompts,
    image=[maps["tone"], maps["layout"]],
    controlnet_conditioning_scale=[1.0, 1.0],
    num_inference_steps=10,
    guidance_scale=3.0,
    generator=[torch.Generator().manual_seed(0) for _ in prompts],
    output_type="pt",
).images  # (4, 3, 128, 128), one per prompt
coarse = F.interpolate(F.avg_pool2d(out, TONE_CELL), scale_factor=TONE_CELL)
texture = (out - coarse).square().mean((1, 2, 3)).sqrt()  # inside cells
for p, img, tex in zip(prompts, out, texture, strict=True):
    print(
        f"{p or '(empty prompt)':>34}: tone error "
        f"{tone_error(img[None], maps['tone']):.3f}, layout error "
        f"{layout_error(img[None], maps['layout']):.3f}, "
        f"texture {tex:.3f}"
    )
# --8<-- [end:prompts]

# --8<-- [start:figure]
fig, axes = plt.subplots(
    1, len(prompts), figsize=(7.0, 2.2), layout="constrained"
)
for ax, p, img in zip(axes, prompts, out, strict=True):
    ax.imshow(img.permute(1, 2, 0).numpy())
    ax.set_title(p.removeprefix("a photo of ") or "(empty prompt)", fontsize=8)
    ax.axis("off")
tone_err = [tone_error(i[None], maps["tone"]) for i in out]
layout_err = [layout_error(i[None], maps["layout"]) for i in out]
rows = "; ".join(
    f"'{p}': tone error {a:.3f}, layout error {b:.3f}, texture {c:.3f}"
    for p, a, b, c in zip(prompts, tone_err, layout_err, texture, strict=True)
)
save_figure(
    fig,
    "prompts.png",
    alt="Four pictures drawn under the same tone and layout controls from "
    f"the cat, one per prompt, same seed: {rows}.",
)
# --8<-- [end:figure]

glue("n_prompts", len(prompts))
glue("cell_px", f"{TONE_CELL} x {TONE_CELL}")
for p, a, b, tex in zip(prompts, tone_err, layout_err, texture, strict=True):
    key = p.split()[-1] if p else "empty"
    glue(f"tone_{key}", f"{a:.3f}")
    glue(f"layout_{key}", f"{b:.3f}")
    glue(f"texture_{key}", f"{tex:.3f}")
assert min(tone_err) == tone_err[0]  # no prompt: closest to the tone map
assert float(texture.min()) == float(texture[0])  # ... and the least drawn
assert max(tone_err) == tone_err[-1]  # dark space overrides light cells
glue("texture_ratio", f"{float(texture.max() / texture[0]):.1f}")
