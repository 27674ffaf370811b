"""The residency schedule of one call under each offload mode, as a
table and a figure: components against phases, shaded by the share of the
component held on the accelerator side."""

import matplotlib.pyplot as plt
import numpy as np

from infralens import glue, save_figure
from infralens.offload import Trace, apply_offload, generate, mib
from infralens.tiny_pipeline import load

# --8<-- [start:modes]
traces = {}
for mode in ("none", "model", "sequential"):
    pipe = load()
    resident = apply_offload(pipe, mode)  # the real hooks, see above
    with Trace(pipe, resident=resident) as traces[mode]:
        generate(pipe)
total = sum(traces["none"].sizes.values())
print("mode        peak MiB  share  transfers  MiB moved")
for mode, trace in traces.items():
    count, moved = trace.moved()
    share = trace.peak() / total
    print(f"{mode:<11} {mib(trace.peak()):>8} {share:>6.0%}", end="")
    print(f" {count:>10,} {mib(moved):>10}")
# --8<-- [end:modes]

# --8<-- [start:figure]
names = list(traces["none"].sizes)
phases = traces["none"].phases[1:]  # text, step 1..4, decode, after
fig, axes = plt.subplots(3, 1, figsize=(7.2, 6.6), layout="constrained")
for ax, (mode, trace) in zip(axes, traces.items(), strict=True):
    held = np.array(
        [
            [trace.phase_peak(p)[n] / trace.sizes[n] for p in phases]
            for n in names
        ]
    )
    ax.imshow(held, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i, n in enumerate(names):
        for j, p in enumerate(phases):
            k = sum(
                e.component == n and e.phase == p and e.action == "load"
                for e in trace.events
            )
            colour = "white" if held[i, j] > 0.5 else "black"
            ax.text(
                j,
                i,
                f"{k} in" if k else "",
                ha="center",
                va="center",
                color=colour,
                fontsize=9,
            )
    ax.set_yticks(range(len(names)), names)
    ax.set_xticks(range(len(phases)), phases)
    ax.set_title(
        f"{mode}: peak {mib(trace.peak())} MiB on the accelerator",
        fontsize=10,
    )
save_figure(
    fig,
    "residency_timeline.png",
    alt="Three residency charts, one per offload mode, with the text "
    "encoder, UNet and VAE as rows and the phases of one call (text, "
    f"{len(phases) - 3} denoising steps, decode, after) as columns; dark "
    "cells mean the "
    "component is held on the accelerator side. Without "
    "offload all three rows are dark throughout (peak "
    f"{mib(traces['none'].peak())} MiB). With model offload one component "
    "at a time is dark: the text encoder during text, the UNet for all "
    "four steps, the VAE during decode (peak "
    f"{mib(traces['model'].peak())} MiB). With sequential offload every "
    "cell is nearly white: one layer is held at a time, loaded hundreds "
    "of times per phase (peak "
    f"{mib(traces['sequential'].peak())} MiB).",
)
# --8<-- [end:figure]

none, model, seq = traces.values()
assert none.peak() == total and none.moved() == (0, 0)
assert model.peak() == max(model.sizes.values())
assert seq.peak() < model.peak() < none.peak()
assert seq.moved()[0] > 100 * model.moved()[0]
glue("none_peak", mib(none.peak()))
glue("model_share", f"{model.peak() / total:.0%}")
glue("seq_share", f"{seq.peak() / total:.1%}")
glue("seq_over_model", f"{seq.moved()[0] / model.moved()[0]:.0f}")
