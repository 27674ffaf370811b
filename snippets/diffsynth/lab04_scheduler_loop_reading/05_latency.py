"""Latency against step count, with and without guidance, measured in
this build (seconds depend on the machine; the shape does not)."""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from infralens import glue, save_figure
from infralens.tiny_pipeline import load, prompt

pipe = load()
text = prompt("brick")
calls = []
pipe.unet.register_forward_hook(lambda m, a, o: calls.append(a[0].shape[0]))


# --8<-- [start:measure]
torch.set_num_threads(1)  # steadier when other work shares the CPU


def seconds(steps, g, runs=3):
    best = float("inf")
    for _ in range(runs):  # keep the fastest: least disturbed by others
        calls.clear()
        start = time.perf_counter()
        pipe(
            text,
            num_inference_steps=steps,
            guidance_scale=g,
            generator=torch.Generator().manual_seed(0),
            output_type="np",
        )
        best = min(best, time.perf_counter() - start)
    return best, len(calls), calls[0]  # seconds, UNet calls, batch


seconds(2, 3.0)  # warm-up: first calls allocate and pick kernels
counts = (2, 4, 8, 16)
table = {g: [seconds(n, g) for n in counts] for g in (1.0, 3.0)}
print(f"torch threads: {torch.get_num_threads()}")
print("steps   no guidance (batch 1)   guidance 3 (batch 2)")
for i, n in enumerate(counts):
    (s1, c1, _), (s3, c3, _) = table[1.0][i], table[3.0][i]
    one, two = f"{s1:.3f} s, {c1} calls", f"{s3:.3f} s, {c3} calls"
    print(f"{n:>5}   {one:<22}  {two}")
# --8<-- [end:measure]

# --8<-- [start:fit]
fits = {}
for g, rows in table.items():
    secs = np.array([r[0] for r in rows])
    per_step, fixed = np.polyfit(counts, secs, 1)  # secs = fixed + k n
    fits[g] = per_step, fixed
    print(
        f"guidance {g}: {1000 * per_step:.1f} ms per step "
        f"+ {1000 * fixed:.0f} ms fixed"
    )
ratio = fits[3.0][0] / fits[1.0][0]
print(f"a guided step costs {ratio:.2f}x an unguided one")
# --8<-- [end:fit]

# --8<-- [start:figure]
fig, ax = plt.subplots(figsize=(5.5, 3.4))
lines = {
    1.0: ("no guidance: batch 1", "C0"),
    3.0: ("guidance 3: batch 2", "C1"),
}
for g, (label, color) in lines.items():
    secs = [r[0] for r in table[g]]
    k, c = fits[g]
    ax.plot(counts, secs, "o", color=color, label=f"{label}, measured")
    ax.plot(counts, [c + k * n for n in counts], "--", color=color, lw=1)
ax.set(xlabel="num_inference_steps", ylabel="seconds per pipe(...) call")
ax.set_xticks(counts)
ax.set_ylim(bottom=0)
ax.legend(fontsize=8)
fig.tight_layout()
fitted = "; ".join(
    f"{lines[g][0]}, {1000 * k:.1f} ms per step plus {1000 * c:.0f} ms fixed"
    for g, (k, c) in fits.items()
)
save_figure(
    fig,
    "latency_vs_steps.png",
    alt="Seconds per pipe(...) call against num_inference_steps "
    f"{', '.join(map(str, counts))}: the measured points and a dashed "
    f"straight-line fit for each setting. Fits: {fitted}. A guided step "
    f"costs {ratio:.2f} times an unguided one; the table above lists "
    "every measurement.",
)
# --8<-- [end:figure]

assert [r[1] for r in table[1.0]] == list(counts)  # one call per step
assert [r[1] for r in table[3.0]] == list(counts)  # guidance: same calls
assert {r[2] for r in table[1.0]} == {1} and {r[2] for r in table[3.0]} == {2}
glue("ms_per_step_g1", f"{1000 * fits[1.0][0]:.1f}")
glue("ms_per_step_g3", f"{1000 * fits[3.0][0]:.1f}")
glue("ms_fixed_g3", f"{1000 * fits[3.0][1]:.0f}")
glue("cfg_ratio", f"{ratio:.2f}")
glue("threads", torch.get_num_threads())
