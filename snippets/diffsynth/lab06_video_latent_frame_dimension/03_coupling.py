"""Frames are coupled: change one input frame of a clip and measure how
much each latent frame moves, for the Wan-shaped video VAE (causal 3D
convolutions) and for the small image VAE run on each frame; then the same
on the decode side."""

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import LogNorm

from infralens import glue, save_figure
from infralens.small_vae import area_resize, load, to_model_input
from infralens.training_data import held_out_image
from infralens.video_vae import RANDOM_WEIGHTS, small_wan_vae

# --8<-- [start:clip]
rgb = area_resize(held_out_image(), 32, 64)  # (32, 64, 3) in [0, 1]
frames = [to_model_input(rgb[:, x : x + 32]) for x in range(0, 36, 4)]
video = torch.stack(frames, dim=2)  # (1, 3, 9, 32, 32): a slow pan
B, C, F, H, W = video.shape
video_vae = small_wan_vae()  # Wan 2.1's blocks, tiny, RANDOM weights
image_vae = load()  # the small image VAE, trained
print(RANDOM_WEIGHTS, "(video VAE); the image VAE is trained")


def encode_video(x):  # (B, C, F, H, W) -> (B, 16, 1 + (F - 1) // 4, h, w)
    return video_vae.encode(x).latent_dist.mode()


def encode_frames(x):  # each frame alone: the per-frame view, then back
    flat = x.permute(0, 2, 1, 3, 4).reshape(B * F, C, H, W)
    z = image_vae.encode(flat).latent_dist.mode()  # (B*F, 4, h, w)
    return z.reshape(B, F, *z.shape[1:]).permute(0, 2, 1, 3, 4)


# --8<-- [end:clip]


# --8<-- [start:reach]
def reach(encode, x, bump=0.5):
    """Row t: largest change of each output frame when frame t moves."""
    with torch.no_grad():
        base = encode(x)
        rows = []
        for t in range(x.shape[2]):
            edited = x.clone()
            edited[:, :, t] += bump  # one frame brighter
            moved = (encode(edited) - base).abs().amax(dim=(0, 1, 3, 4))
            rows.append(moved)
    return torch.stack(rows)  # (input frames, output frames)


video_reach = reach(encode_video, video)  # (9, 3)
image_reach = reach(encode_frames, video)  # (9, 9)
for name, grid in (("video VAE", video_reach), ("image VAE", image_reach)):
    print(f"{name}: input frame -> latent frames that moved")
    for t, row in enumerate(grid):
        print(f"  {t}: {row.nonzero().flatten().tolist()}")
# --8<-- [end:reach]

# --8<-- [start:decode]
with torch.no_grad():
    z = encode_video(video)  # (1, 16, 3, 4, 4)
decode_reach = reach(lambda lat: video_vae.decode(lat).sample, z)  # (3, 9)
print("video VAE decode: latent frame -> output frames that moved")
for j, row in enumerate(decode_reach):
    print(f"  {j}: {row.nonzero().flatten().tolist()}")
# --8<-- [end:decode]

# --8<-- [start:extend]
with torch.no_grad():
    short = encode_video(video[:, :, :5])  # the first 5 frames only
same = torch.equal(short, z[:, :, :2])
print("latent of frames 0-4:", tuple(short.shape))
print("equal to the first 2 latent frames of the 9-frame clip:", same)
# --8<-- [end:extend]

# --8<-- [start:figure]
fig, axes = plt.subplots(
    1, 3, figsize=(9, 3.8), width_ratios=[3, 9, 9], layout="constrained"
)
panels = [
    (video_reach, "video VAE encode", "input frame", "latent frame"),
    (image_reach, "image VAE, per frame", "input frame", "latent frame"),
    (decode_reach, "video VAE decode", "latent frame", "output frame"),
]
top = max(float(g.max()) for g, *_ in panels)
norm = LogNorm(1e-4, top)  # colour: size of the change, log scale
for ax, (grid, title, rows, cols) in zip(axes, panels, strict=True):
    shown = np.ma.masked_equal(grid.numpy(), 0.0)  # exact zero: blank
    im = ax.imshow(shown, cmap="viridis", norm=norm, aspect="auto")
    ax.set_facecolor("white")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(f"changed {rows}")
    ax.set_xlabel(f"{cols}")
    ax.set_xticks(range(grid.shape[1]))
    ax.set_yticks(range(grid.shape[0]))
fig.colorbar(im, ax=axes, label="largest change (white: exactly 0)")


def summary(grid):
    return "; ".join(
        f"{t}: {', '.join(map(str, row.nonzero().flatten().tolist()))}"
        for t, row in enumerate(grid)
    )


save_figure(
    fig,
    "frame_coupling.png",
    alt="Three heat maps of how much each output frame moved when one "
    "input frame changed; blank cells did not move at all. Video VAE "
    f"encode, input frame: latent frames moved = {summary(video_reach)}. "
    "Image VAE run on each frame: each input frame moved only its own "
    "latent frame, a diagonal. Video VAE decode, latent frame: output "
    f"frames moved = {summary(decode_reach)}.",
)
# --8<-- [end:figure]

chunk = [0] + [1 + (t - 1) // 4 for t in range(1, F)]  # chunk of frame t
for t in range(F):  # a frame reaches its own chunk and every later one
    moved = video_reach[t].nonzero().flatten().tolist()
    assert moved == list(range(chunk[t], video_reach.shape[1])), (t, moved)
moved_image = image_reach > 0
assert torch.equal(moved_image, torch.eye(F, dtype=torch.bool))
for j in range(decode_reach.shape[0]):  # latent j reaches frames 4j-3 on
    first = 0 if j == 0 else 1 + 4 * (j - 1)
    moved = decode_reach[j].nonzero().flatten().tolist()
    assert moved == list(range(first, F)), (j, moved)
assert same  # causal: later frames never change earlier latent frames
glue("frames", F)
glue("latent_frames", video_reach.shape[1])
glue("frame0_reach", len(video_reach[0].nonzero()))
glue("frame4_first", int(video_reach[4].nonzero()[0]))
glue("frame5_first", int(video_reach[5].nonzero()[0]))
glue("last_first", int(video_reach[F - 1].nonzero()[0]))
glue("latent1_first", int(decode_reach[1].nonzero()[0]))
glue("latent2_first", int(decode_reach[2].nonzero()[0]))
