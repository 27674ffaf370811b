"""Same two controls, different prompts: the controls keep where the
colours and lines go, the prompt still decides what is drawn."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from infralens import glue, save_figure
from infralens import pipeline_eval as evaluation
from infralens.controls import (
    cat_picture,
    control_maps,
    edge_agreement,
    layout_error,
    load_pipeline,
)

pipe = load_pipeline(("edges", "layout"))
maps = control_maps(cat_picture())
ref = evaluation.reference_crops()  # thumbnails of the training crops

# --8<-- [start:prompts]
prompts = ["", "a photo of a brick wall", "a photo of grass",
           "a photo of galaxies in deep space"]
out = pipe(prompts, image=[maps["edges"], maps["layout"]],
           controlnet_conditioning_scale=[1.0, 1.0],
           num_inference_steps=10, guidance_scale=3.0,
           generator=[torch.Generator().manual_seed(0) for _ in prompts],
           output_type="pt").images  # (4, 3, 128, 128), one per prompt
detail = out - torch.nn.functional.avg_pool2d(out, 8).repeat_interleave(
    8, 2).repeat_interleave(8, 3)  # what is left inside each 8x8 cell
for p, img, d in zip(prompts, out, detail):
    print(f"{p or '(empty prompt)':>34}: layout error "
          f"{layout_error(img[None], maps['layout']):.3f}, edges "
          f"{edge_agreement(img[None], maps['edges']):.2f}, "
          f"texture RMS {d.square().mean().sqrt():.3f}")
# --8<-- [end:prompts]

fig, axes = plt.subplots(1, len(prompts), figsize=(7.0, 2.2),
                         layout="constrained")
for ax, p, img in zip(axes, prompts, out):
    ax.imshow(img.permute(1, 2, 0).numpy())
    ax.set_title(p.removeprefix("a photo of ") or "(empty prompt)",
                 fontsize=8)
    ax.axis("off")
save_figure(fig, "prompts.png", alt="Four pictures under the same edge and"
            " layout controls from the cat, for four prompts.")
