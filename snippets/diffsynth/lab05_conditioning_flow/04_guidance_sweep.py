"""The guidance-scale sweep as images: one caption, four seeds, four
scales, with how often each sample is recognised as the caption's image
and how much contrast it has."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from infralens import glue, save_figure
from infralens import pipeline_eval as evaluation
from infralens.tiny_pipeline import load, prompt

pipe = load()
name = "astronaut"
caption = prompt(name)  # "a photo of an astronaut"
ref = evaluation.reference_crops()  # thumbnails of the training crops

# --8<-- [start:sweep]
scales, seeds = (1.0, 2.0, 4.0, 8.0), (0, 1, 2, 3)
columns, matched, contrast = [], {}, {}
for g in scales:
    images = pipe(
        [caption] * len(seeds),
        num_inference_steps=10,
        guidance_scale=g,
        generator=[torch.Generator().manual_seed(s) for s in seeds],
        output_type="np",
    ).images  # (seeds, 128, 128, 3) in [0, 1]
    nearest = evaluation.nearest_image(images, ref)  # index per sample
    matched[g] = int((nearest == evaluation.names().index(name)).sum())
    contrast[g] = float(images.std(axis=(1, 2, 3)).mean())
    columns.append(np.concatenate(list(images), axis=0))  # seeds stacked
    print(
        f"guidance {g:>3}: {matched[g]}/{len(seeds)} samples nearest to "
        f"the {name} image, pixel std {contrast[g]:.3f}"
    )
# --8<-- [end:sweep]

# --8<-- [start:figure]
fig, ax = plt.subplots(figsize=(6.4, 6.8), layout="constrained")
ax.imshow(np.concatenate(columns, axis=1))  # columns: scales, rows: seeds
ax.set_xticks([64 + 128 * i for i in range(len(scales))])
ax.set_xticklabels([f"guidance {g:g}" for g in scales])
ax.set_yticks([64 + 128 * i for i in range(len(seeds))])
ax.set_yticklabels([f"seed {s}" for s in seeds])
ax.tick_params(length=0)
ax.set_title(f'"{caption}"', fontsize=10)
per_scale = "; ".join(
    f"guidance {g:g}, {matched[g]} of {len(seeds)}, {contrast[g]:.3f}"
    for g in scales
)
save_figure(
    fig,
    "guidance_sweep.png",
    alt=f"A grid of samples for '{caption}': one row per seed, "
    f"{seeds[0]} to {seeds[-1]}, one column per guidance scale, "
    f"{', '.join(f'{g:g}' for g in scales)}. Samples nearest to the "
    f"{name} image, and pixel std: {per_scale}.",
)
# --8<-- [end:figure]

assert list(contrast.values()) == sorted(contrast.values())  # rises
assert all(matched[1.0] < matched[g] for g in scales[1:])  # guided > none
glue("scales", ", ".join(f"{g:g}" for g in scales))
glue("n_seeds", len(seeds))
glue("matched_1", matched[1.0])
glue("matched_2", matched[2.0])
glue("matched_4", matched[4.0])
glue("matched_8", matched[8.0])
glue("std_1", f"{contrast[1.0]:.3f}")
glue("std_8", f"{contrast[8.0]:.3f}")
