"""Decode is a memory hotspot: measure it, then account for SD sizes."""

import matplotlib.pyplot as plt
import torch
from diffusers import AutoencoderKL

from infralens import glue, save_figure
from infralens.memory import peak_bytes
from infralens.small_vae import load

MiB = 2**20
vae = load()

# --8<-- [start:small]
sizes = [128, 256, 384, 512]
rows = {"plain": [], "tiling": [], "4 images": [], "4 images, slicing": []}
for px in sizes:
    z1 = torch.randn(1, 4, px // 8, px // 8)
    z4 = torch.randn(4, 4, px // 8, px // 8)
    vae.disable_tiling(), vae.disable_slicing()
    rows["plain"].append(peak_bytes(vae.decode, z1) / MiB)
    rows["4 images"].append(peak_bytes(vae.decode, z4) / MiB)
    vae.enable_tiling()  # tiles of sample_size (256) px, 25% overlap
    rows["tiling"].append(peak_bytes(vae.decode, z1) / MiB)
    vae.disable_tiling(), vae.enable_slicing()  # one image at a time
    rows["4 images, slicing"].append(peak_bytes(vae.decode, z4) / MiB)
print("peak activation MiB while decoding (small VAE, float32)")
print(f"{'px':>5}" + "".join(f"{k:>19}" for k in rows))
for i, px in enumerate(sizes):
    print(f"{px:>5}" + "".join(f"{v[i]:>19.1f}" for v in rows.values()))
# --8<-- [end:small]

# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(6, 3.6))
for name, values in rows.items():
    ax.plot(sizes, values, marker="o", label=name)
ax.set_xlabel("image side (px)")
ax.set_ylabel("peak activations (MiB)")
ax.set_title("Small VAE decode, measured on CPU")
ax.legend()
fig.tight_layout()
at_largest = "; ".join(f"{k}: {v[-1]:.0f} MiB" for k, v in rows.items())
save_figure(
    fig,
    "decode_memory.png",
    alt="Line chart of peak activation memory while the small VAE "
    f"decodes, against image side from {sizes[0]} to {sizes[-1]} px, "
    f"one line per setting. At {sizes[-1]} px: {at_largest}. "
    "The table printed above lists every point.",
)
# --8<-- [end:plot]

# --8<-- [start:sd]
cfg = dict(
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    latent_channels=4,
)
torch.manual_seed(0)
sd_real = AutoencoderKL(**cfg).eval()  # random weights: memory only
with torch.device("meta"):
    sd_meta = AutoencoderKL(**cfg).eval()
real = peak_bytes(sd_real.decode, torch.randn(1, 4, 32, 32)) / MiB
est = {
    px: peak_bytes(
        sd_meta.decode, torch.empty(1, 4, px // 8, px // 8, device="meta")
    )
    / MiB
    for px in (256, 512, 1024)
}
print(
    f"SD VAE decode at  256 px: measured {real:.0f} MiB, "
    f"meta estimate {est[256]:.0f} MiB"
)
for px in (512, 1024):
    print(f"SD VAE decode at {px:>4} px: estimate {est[px]:,.0f} MiB (fp32)")
# --8<-- [end:sd]

assert abs(real - est[256]) / real < 0.01
assert rows["tiling"][-1] < rows["plain"][-1]
assert rows["4 images, slicing"][-1] < rows["4 images"][-1]
glue("sd512", f"{est[512]:,.0f}")
glue("sd1024", f"{est[1024]:,.0f}")
glue("largest", sizes[-1])
glue("plain_largest", f"{rows['plain'][-1]:.0f}")
glue("tiled_largest", f"{rows['tiling'][-1]:.0f}")
