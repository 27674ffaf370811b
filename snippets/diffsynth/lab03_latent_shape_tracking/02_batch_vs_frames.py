"""Batch versus frames: which outputs move when one input is changed.

Images in a batch are independent samples; frames of a video are tied
together by the model. Measured by perturbing one input at a time."""

import matplotlib.pyplot as plt
import torch
from diffusers import AutoencoderKLWan

from infralens import glue, save_figure
from infralens.tiny_pipeline import load

pipe = load()

# --8<-- [start:batch]
gen = torch.Generator().manual_seed(0)
noise = torch.randn((3, 4, 16, 16), generator=gen)  # (B, C, H/8, W/8)
run = dict(num_inference_steps=2, guidance_scale=3.0, output_type="latent")
prompt = ["a photo of a rocket"] * 3
out = pipe(prompt, latents=noise, **run).images  # (3, 4, 16, 16)
batch_moved = []
for k in range(3):
    edited = noise.clone()
    edited[k] = torch.randn((4, 16, 16), generator=gen)  # new noise, item k
    again = pipe(prompt, latents=edited, **run).images
    moved = (again - out).abs().amax(dim=(1, 2, 3))  # per image
    batch_moved.append(moved > 0)
    print(
        f"new noise for image {k}: outputs moved by",
        [round(v, 3) for v in moved.tolist()],
    )
# --8<-- [end:batch]

# --8<-- [start:frames]
torch.manual_seed(0)
video_vae = AutoencoderKLWan(  # Wan 2.1's architecture, tiny widths
    base_dim=8,
    z_dim=16,
    num_res_blocks=1,
    latents_mean=[0.0] * 16,
    latents_std=[1.0] * 16,
).eval()
print("video VAE: RANDOM WEIGHTS, only which frame reaches which counts")


def frames_reached(video):
    """Row k: which latent frames change when input frame k changes."""
    with torch.no_grad():
        z = video_vae.encode(video).latent_dist.mode()
        rows = []
        for k in range(video.shape[2]):
            edited = video.clone()
            edited[:, :, k] += 1.0
            z2 = video_vae.encode(edited).latent_dist.mode()
            rows.append((z2 - z).abs().amax(dim=(0, 1, 3, 4)) > 1e-6)
    return z, torch.stack(rows)


video = torch.randn(1, 3, 9, 16, 16)  # (B, C, F, H, W)
z, reach = frames_reached(video)
print("video", tuple(video.shape), "-> z", tuple(z.shape))
for k, row in enumerate(reach):
    print(f"frame {k} reaches latent frames", row.nonzero().flatten().tolist())
# --8<-- [end:frames]

# --8<-- [start:figure]
fig, axes = plt.subplots(
    1, 2, figsize=(7.2, 3.6), width_ratios=[3, 3], layout="constrained"
)
panels = [
    (torch.stack(batch_moved), "batch of 3 images", "image", "output image"),
    (reach, "one clip of 9 frames", "input frame", "latent frame"),
]
for ax, (grid, title, rows, cols) in zip(axes, panels, strict=True):
    ax.imshow(grid.float().numpy(), cmap="Blues", vmin=0, vmax=1.4)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(f"changed {rows}")
    ax.set_xlabel(f"{cols} that moved (dark)")
    ax.set_xticks(range(grid.shape[1]))
    ax.set_yticks(range(grid.shape[0]))
reached = {}  # latent frames reached -> the input frames that reach them
for k, row in enumerate(reach.tolist()):
    reached.setdefault(tuple(i for i, r in enumerate(row) if r), []).append(k)
frames_text = "; ".join(
    f"input frame{'s' * (len(ks) > 1)} {', '.join(map(str, ks))} moved "
    f"latent frame{'s' * (len(v) > 1)} {', '.join(map(str, v))}"
    for v, ks in reached.items()
)
save_figure(
    fig,
    "batch_versus_frames.png",
    alt="Two grids, dark where an output moved when one input changed. "
    f"Left, a batch of {len(batch_moved)} images: new noise for one image "
    "moved only that image's output, a dark diagonal. Right, one clip of "
    f"{video.shape[2]} frames encoded to {z.shape[2]} latent frames: "
    f"{frames_text}.",
)
# --8<-- [end:figure]

independent = torch.equal(torch.stack(batch_moved), torch.eye(3).bool())
assert independent  # each image moved only when its own noise changed
assert tuple(z.shape) == (1, 16, 3, 2, 2)
assert reach[0].all()  # frame 0 reaches every latent frame (causal cache)
assert not reach[8][:2].any()  # the last frame reaches only the last one
glue("latent_frames", z.shape[2])
glue("first_reaches", int(reach[0].sum()))
glue(
    "last_reaches", ", ".join(map(str, reach[8].nonzero().flatten().tolist()))
)
