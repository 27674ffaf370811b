"""Decode is a memory hotspot: count it, account for SD sizes on meta,
and hold the count against real measurements."""

import json

import matplotlib.pyplot as plt
import torch
from diffusers import AutoencoderKL

from infralens import glue, save_figure
from infralens.memory import account, decode_rss_growth, peak_bytes
from infralens.small_vae import ROOT, cat_image, load, psnr

MiB = 2**20
vae = load()

# --8<-- [start:small]
meta_vae = load().to("meta")  # the count needs shapes, not values
sizes = [128, 256, 512]
rows = {"plain": [], "tiling": [], "4 images": [], "4 images, slicing": []}
for px in sizes:
    z1 = torch.empty(1, 4, px // 8, px // 8, device="meta")
    z4 = torch.empty(4, 4, px // 8, px // 8, device="meta")
    meta_vae.disable_tiling(), meta_vae.disable_slicing()
    rows["plain"].append(peak_bytes(meta_vae.decode, z1) / MiB)
    rows["4 images"].append(peak_bytes(meta_vae.decode, z4) / MiB)
    meta_vae.enable_tiling()  # tiles of sample_size (256) px, 25% overlap
    rows["tiling"].append(peak_bytes(meta_vae.decode, z1) / MiB)
    meta_vae.disable_tiling(), meta_vae.enable_slicing()  # one at a time
    rows["4 images, slicing"].append(peak_bytes(meta_vae.decode, z4) / MiB)
print("peak activation MiB counted while decoding (small VAE, float32)")
print(f"{'px':>5}" + "".join(f"{k:>19}" for k in rows))
for i, px in enumerate(sizes):
    print(f"{px:>5}" + "".join(f"{v[i]:>19.1f}" for v in rows.values()))
# --8<-- [end:small]

# --8<-- [start:tiles]
cat = cat_image(256, 384)  # wider than one 256 px tile
with torch.no_grad():
    vae.disable_slicing(), vae.disable_tiling()
    z = vae.encode(cat).latent_dist.mode()  # (1, 4, 32, 48)
    whole = vae.decode(z).sample.clamp(-1, 1)
    vae.enable_tiling()
    tiled = vae.decode(z).sample.clamp(-1, 1)
    vae.disable_tiling()
gap = (whole - tiled).abs()
print(
    f"cat at 256x384, tiled vs whole: max |difference| {gap.max():.3f}, "
    f"PSNR {psnr(whole, tiled):.1f} dB"
)
# --8<-- [end:tiles]

# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(6, 3.6))
for name, values in rows.items():
    ax.plot(sizes, values, marker="o", label=name)
ax.set_xlabel("image side (px)")
ax.set_ylabel("peak activations (MiB)")
ax.set_title("Small VAE decode, activations counted on meta")
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
cfg = dict(  # Stable Diffusion 1.x's VAE layout
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    latent_channels=4,
)
with torch.device("meta"):
    sd_meta = AutoencoderKL(**cfg).eval()
est, biggest = {}, {}
for px in (128, 256, 512, 1024, 2048):
    z = torch.empty(1, 4, px // 8, px // 8, device="meta")
    count = account(sd_meta.decode, z)  # shapes only, nothing allocated
    est[px], biggest[px] = count.peak / MiB, count.largest / MiB
weights = sum(p.numel() for p in sd_meta.decoder.parameters()) * 4 / MiB
print(f"SD VAE decoder weights: {weights:,.0f} MiB (float32)")
print(f"{'px':>5}{'meta estimate':>15}{'largest tensor':>16}")
for px in est:
    print(f"{px:>5}{est[px]:>11,.0f} MiB{biggest[px]:>12,.0f} MiB")
# --8<-- [end:sd]

# --8<-- [start:measured]
cpu = decode_rss_growth(cfg, 128) / MiB  # fresh process, random weights
print(
    f"CPU, this build, 128 px: resident memory grew {cpu:,.0f} MiB, "
    f"{cpu / est[128]:.1f}x the estimate"
)
record = json.loads((ROOT / "data/sd_vae_decode_cuda.json").read_text())
print(f"CUDA, {record['gpu']}, recorded {record['date']} (float32):")
cuda = {}
for row in record["rows"]:
    if row["dtype"] == "float32":
        cuda[row["px"]] = row["peak_mib"]
        print(
            f"{row['px']:>5} px: peak {row['peak_mib']:>6,.0f} MiB, "
            f"{row['peak_mib'] / est[row['px']]:.2f}x the estimate"
        )
# --8<-- [end:measured]

assert rows["tiling"][-1] < rows["plain"][-1]
assert rows["4 images, slicing"][-1] < rows["4 images"][-1]
for row in record["rows"]:  # the recorded estimates are this build's
    if row["dtype"] == "float32":
        assert round(est[row["px"]]) == row["estimate_mib"]
assert cpu > est[128]  # the measurement sees what the count cannot
assert all(1.5 < cuda[px] / est[px] < 2 for px in (256, 512, 1024))
assert cuda[2048] < est[2048]  # meta materialises the attention matrix
tokens = (2048 // 8) ** 2
assert round(biggest[2048]) == tokens**2 * 4 // MiB  # that matrix
assert weights < est[512] / 3  # activations, not weights, dominate
glue("sd512", f"{est[512]:,.0f}")
glue("sd1024", f"{est[1024]:,.0f}")
glue("sd2048", f"{est[2048]:,.0f}")
glue("sd128", f"{est[128]:,.0f}")
glue("cpu128", f"{cpu:,.0f}")
glue("cpu_ratio", f"{cpu / est[128]:.1f}")
glue("cuda1024", f"{cuda[1024]:,.0f}")
glue("cuda2048", f"{cuda[2048]:,.0f}")
glue("cuda_ratio_lo", f"{min(cuda[p] / est[p] for p in (256, 512, 1024)):.2f}")
glue("cuda_ratio_hi", f"{max(cuda[p] / est[p] for p in (256, 512, 1024)):.2f}")
glue("cuda_ratio_2048", f"{cuda[2048] / est[2048]:.2f}")
glue("attn2048", f"{biggest[2048]:,.0f}")
glue("tokens2048", f"{tokens:,}")
glue("dec_weights", f"{weights:,.0f}")
glue("gpu", record["gpu"])
assert 0 < gap.max() < 1  # slightly different, not broken
glue("tile_diff", f"{gap.max():.3f}")
glue("tile_psnr", f"{psnr(whole, tiled):.1f}")
glue("largest", sizes[-1])
glue("plain_largest", f"{rows['plain'][-1]:.0f}")
glue("tiled_largest", f"{rows['tiling'][-1]:.0f}")
