"""The step count is not a progress bar: the same seed and prompt drawn
with fewer or more steps gives a different picture."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from infralens import glue, save_figure
from infralens.small_vae import psnr
from infralens.tiny_pipeline import load, prompt

torch.set_num_threads(1)  # one thread: steadier on a shared CPU
pipe = load()  # its own DDIM scheduler

# --8<-- [start:steps]
counts = (1, 2, 4, 8, 32)
images = {}
for n in counts:
    images[n] = pipe(
        prompt("rocket"),  # "a photo of a rocket"
        num_inference_steps=n,
        guidance_scale=3.0,
        generator=torch.Generator().manual_seed(0),  # the same noise
        output_type="pt",
    ).images  # (1, 3, 128, 128) in [0, 1]
ref = images[counts[-1]] * 2 - 1  # the 32-step picture, in [-1, 1]
print("steps  PSNR vs 32 steps")
for n in counts[:-1]:
    print(f"{n:>5}  {psnr(ref, images[n] * 2 - 1):>6.1f} dB")
# --8<-- [end:steps]

# --8<-- [start:figure]
fig, axes = plt.subplots(1, len(counts), figsize=(9, 2.3))
for ax, (n, im) in zip(axes, images.items(), strict=True):
    ax.imshow(im[0].permute(1, 2, 0).numpy())
    ax.set_title(f"{n} step{'s' if n > 1 else ''}", fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
closer = ", ".join(
    f"{n} {psnr(ref, images[n] * 2 - 1):.1f} dB" for n in counts[:-1]
)
save_figure(
    fig,
    "rocket_by_step_count.png",
    alt=f"A row of {len(counts)} images of '{prompt('rocket')}' from the "
    f"same seed and noise, drawn with {', '.join(map(str, counts))} "
    f"steps. PSNR against the {counts[-1]}-step image, by steps: "
    f"{closer}; each closer than the one before.",
)
# --8<-- [end:figure]

db = {n: psnr(ref, images[n] * 2 - 1) for n in counts[:-1]}
assert all(np.diff([db[n] for n in counts[:-1]]) > 0)  # closer with more
glue("db_1", f"{db[1]:.1f}")
glue("db_8", f"{db[8]:.1f}")
