"""Memory against frame count: activations counted while Wan 2.1's VAE
decodes to 832x480 (meta device, no weights), one clip against the same
latents folded into a batch of one-frame clips."""

import matplotlib.pyplot as plt
import torch
from diffusers import AutoencoderKLWan

from infralens import glue, save_figure
from infralens.memory import account

MiB = 2**20

# --8<-- [start:count]
with torch.device("meta"):  # shapes only: no weights, nothing allocated
    wan = AutoencoderKLWan().eval()  # diffusers' defaults: Wan 2.1's VAE
H, W = 480, 832
FRAMES = (1, 5, 9, 17, 33, 81)
count = {"decode, one clip": [], "latent frames as batch": []}
for n in FRAMES:
    lat = 1 + (n - 1) // 4  # latent frames
    z = torch.empty(1, wan.config.z_dim, lat, H // 8, W // 8, device="meta")
    folded = z.permute(2, 1, 0, 3, 4)  # (F_lat, 16, 1, h, w): 1-frame clips
    count["decode, one clip"].append(account(wan.decode, z).peak / MiB)
    count["latent frames as batch"].append(
        account(wan.decode, folded).peak / MiB
    )
video_mib = [n * 3 * H * W * 4 / MiB for n in FRAMES]  # float32 output
print(f"Wan 2.1 VAE decode to {W}x{H}, float32, peak activations (MiB)")
print(f"{'frames':>6}{'one clip':>10}{'as batch':>10}{'the video':>11}")
rows = zip(FRAMES, *count.values(), video_mib, strict=True)
for n, one, batch, out in rows:
    print(f"{n:>6}{one:>10,.0f}{batch:>10,.0f}{out:>11,.0f}")
dec, fold = count.values()
# --8<-- [end:count]


# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for name, values in count.items():
    ax.plot(FRAMES, values, marker="o", label=name)
ax.plot(FRAMES, video_mib, linestyle="--", label="the decoded video")
ax.set_xlabel("frames")
ax.set_ylabel("MiB")
ax.set_title(f"Wan 2.1 VAE decode at {W}x{H}, counted on meta")
ax.legend(fontsize=8)
save_figure(
    fig,
    "memory_against_frames.png",
    alt=f"Line chart of peak activation memory while Wan 2.1's VAE "
    f"decodes to {W} by {H}, against frame count from {FRAMES[0]} to "
    f"{FRAMES[-1]}. One clip: {dec[0]:,.0f} MiB for one frame, "
    f"{dec[1]:,.0f} for five, {dec[-1]:,.0f} for {FRAMES[-1]}, nearly "
    "flat after the first chunk. The same latents decoded as a batch of "
    f"one-frame clips climb in a straight line to {fold[-1]:,.0f} MiB. "
    f"The decoded video itself grows to {video_mib[-1]:,.0f} MiB. The "
    "table above lists every point.",
)
# --8<-- [end:plot]

assert dec[-1] < 1.2 * dec[1]  # 5 -> 81 frames: chunked, nearly flat
assert dec[-1] - dec[1] < 3 * (video_mib[-1] - video_mib[1])
assert fold[0] == dec[0] and fold[-1] > 5 * dec[-1]  # folding: linear
glue("wan_channels", wan.config.z_dim)
glue("dec1", f"{dec[0]:,.0f}")
glue("dec5", f"{dec[1]:,.0f}")
glue("dec81", f"{dec[-1]:,.0f}")
glue("video81", f"{video_mib[-1]:,.0f}")
glue("video5", f"{video_mib[1]:,.0f}")
growth = (dec[-1] - dec[1]) / (video_mib[-1] - video_mib[1])
glue("growth_ratio", f"{growth:.1f}")
glue("fold_peak", f"{fold[-1]:,.0f}")
glue("fold_chunked", f"{dec[-1]:,.0f}")
glue("fold_ratio", f"{fold[-1] / dec[-1]:.1f}")
