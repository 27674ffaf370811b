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
n_steps = sum(p.startswith("step") for p in phases)
seq_loads = [traces["sequential"].moved(p)[0] for p in phases[:-1]]
save_figure(
    fig,
    "residency_timeline.png",
    alt="Three residency charts, one per offload mode: text encoder, "
    "UNet and VAE as rows, the phases of one call (text, "
    f"{n_steps} denoising steps, decode, after) as columns; dark "
    "cells are held on the accelerator side. Without "
    "offload all three rows are dark throughout (peak "
    f"{mib(traces['none'].peak())} MiB). With model offload one component "
    "at a time is dark: the text encoder during text, the UNet for "
    f"all {n_steps} steps, the VAE during decode, none after (peak "
    f"{mib(traces['model'].peak())} MiB). With sequential offload every "
    "cell is nearly white: one layer is held at a time, with "
    f"{min(seq_loads)} to {max(seq_loads)} layer loads per phase "
    "up to decode (peak "
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
