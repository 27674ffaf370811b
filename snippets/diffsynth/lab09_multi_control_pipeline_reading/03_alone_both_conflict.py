"""Each control alone, both together, and both asking for incompatible
things: the pictures, and how well each control's request was met."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from infralens import glue, save_figure
from infralens.controls import (
    EDGE_SHARE,
    cat_picture,
    control_maps,
    edge_agreement,
    layout_error,
    load_pipeline,
)

pipe = load_pipeline(("edges", "layout"))
maps = control_maps(cat_picture())  # both from the held-out cat
upside_down = maps["layout"].flip(2)  # the cat's colours, rows reversed
prompt = "a photo of a brick wall"

# --8<-- [start:runs]
runs = {  # name: (edge image, layout image, [edge weight, layout weight])
    "no control": (maps["edges"], maps["layout"], [0.0, 0.0]),
    "edges alone": (maps["edges"], maps["layout"], [1.0, 0.0]),
    "layout alone": (maps["edges"], maps["layout"], [0.0, 1.0]),
    "both, agreeing": (maps["edges"], maps["layout"], [1.0, 1.0]),
    "both, in conflict": (maps["edges"], upside_down, [1.0, 1.0]),
}
images, scores = {}, {}
for name, (edges, layout, weights) in runs.items():
    out = pipe(prompt, image=[edges, layout],
               controlnet_conditioning_scale=weights,
               num_inference_steps=10, guidance_scale=3.0,
               generator=torch.Generator().manual_seed(0),
               output_type="pt").images  # (1, 3, 128, 128) in [0, 1]
    images[name] = out
    scores[name] = (edge_agreement(out, maps["edges"]),
                    layout_error(out, layout))
    print(f"{name:>17}: edges followed {scores[name][0]:.2f}, "
          f"layout error {scores[name][1]:.3f}")
# --8<-- [end:runs]

# --8<-- [start:figure]
fig, axes = plt.subplots(1, len(images), figsize=(7.5, 2.0),
                         layout="constrained")
for ax, (name, out) in zip(axes, images.items()):
    ax.imshow(out[0].permute(1, 2, 0).numpy())
    ax.set_title(name, fontsize=8)
    ax.axis("off")
summary = "; ".join(
    f"{n}: edges {e:.2f}, layout error {l:.3f}" for n, (e, l) in scores.items()
)
save_figure(
    fig,
    "alone_both_conflict.png",
    alt=f"Five pictures for '{prompt}' from the same seed: {', '.join(images)}."
    f" The share of the cat's edge pixels each one reproduces and its colour"
    f" distance from the layout it was asked for: {summary}.",
)
# --8<-- [end:figure]

e_alone, l_alone = scores["edges alone"][0], scores["layout alone"][1]
e_clash, l_clash = scores["both, in conflict"]
glue("prompt", prompt)
glue("edge_share", f"{EDGE_SHARE:.2f}")
for name, (e, l) in scores.items():
    key = name.split(",")[-1].strip().replace(" ", "_")
    glue(f"edges_{key}", f"{e:.2f}")
    glue(f"layout_{key}", f"{l:.3f}")
