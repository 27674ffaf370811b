"""Each control alone, both together, and both asking for incompatible
things: the pictures, and how well each control's request was met."""

import matplotlib.pyplot as plt
import torch

from infralens import glue, save_figure
from infralens.controls import (
    cat_picture,
    control_maps,
    layout_error,
    load_pipeline,
    tone_error,
)

pipe = load_pipeline(("tone", "layout"))
maps = control_maps(cat_picture())  # both from the held-out cat
prompt = "a photo of a brick wall"

# --8<-- [start:runs]
negative = 1 - maps["tone"]  # light where the cat is dark, and back
runs = {  # name: (tone image, layout image, [tone weight, layout weight])
    "no control": (maps["tone"], maps["layout"], [0.0, 0.0]),
    "tone alone": (maps["tone"], maps["layout"], [1.0, 0.0]),
    "layout alone": (maps["tone"], maps["layout"], [0.0, 1.0]),
    "both, agreeing": (maps["tone"], maps["layout"], [1.0, 1.0]),
    "inverted tone alone": (negative, maps["layout"], [1.0, 0.0]),
    "both, in conflict": (negative, maps["layout"], [1.0, 1.0]),
}
images, scores = {}, {}
for name, (tone, layout, weights) in runs.items():
    out = pipe(
        prompt,
        image=[tone, layout],
        controlnet_conditioning_scale=weights,
        num_inference_steps=10,
        guidance_scale=3.0,
        generator=torch.Generator().manual_seed(0),
        output_type="pt",
    ).images  # (1, 3, 128, 128) in [0, 1]
    images[name] = out
    scores[name] = (tone_error(out, tone), layout_error(out, layout))
    print(
        f"{name:>19}: tone error {scores[name][0]:.3f}, "
        f"layout error {scores[name][1]:.3f}"
    )
# --8<-- [end:runs]

# --8<-- [start:figure]
fig, axes = plt.subplots(
    1, len(images), figsize=(9.0, 2.0), layout="constrained"
)
for ax, (name, out) in zip(axes, images.items(), strict=True):
    ax.imshow(out[0].permute(1, 2, 0).numpy())
    ax.set_title(name, fontsize=8)
    ax.axis("off")
summary = "; ".join(
    f"{n}: tone error {t:.3f}, layout error {c:.3f}"
    for n, (t, c) in scores.items()
)
save_figure(
    fig,
    "alone_both_conflict.png",
    alt=f"{len(images)} pictures for '{prompt}' from the same seed: "
    f"{', '.join(images)}. Distance of each from the brightness map and "
    f"from the colour layout it was asked for (lower is closer): "
    f"{summary}.",
)
# --8<-- [end:figure]

KEYS = {
    "no control": "none",
    "tone alone": "tone",
    "layout alone": "layout",
    "both, agreeing": "agree",
    "inverted tone alone": "negalone",
    "both, in conflict": "conflict",
}
glue("prompt", prompt)
for name, (t, c) in scores.items():
    glue(f"tone_err_{KEYS[name]}", f"{t:.3f}")
    glue(f"layout_err_{KEYS[name]}", f"{c:.3f}")
tone_alone, layout_alone = scores["tone alone"][0], scores["layout alone"][1]
tone_clash, layout_clash = scores["both, in conflict"]
assert layout_clash > layout_alone  # worse than layout alone
assert layout_clash > scores["no control"][1]  # worse than no control
assert scores["no control"][0] > tone_alone  # each control works alone
assert scores["no control"][1] > layout_alone
agree = scores["both, agreeing"]
assert agree[1] < layout_alone  # better on layout
assert abs(agree[0] - tone_alone) < 0.01  # about as good on tone
glue("tone_gain_agree", f"{tone_alone - agree[0]:.3f}")
# the tone net alone cannot reach the inverted map: no better than nothing
none_vs_negative = tone_error(images["no control"], negative)
neg_alone = scores["inverted tone alone"][0]
glue("tone_err_none_neg", f"{none_vs_negative:.3f}")
assert neg_alone > none_vs_negative - 0.01
assert tone_clash > neg_alone  # the layout net pulls it further off
glue("tone_worse", f"{tone_clash / neg_alone:.2f}")
