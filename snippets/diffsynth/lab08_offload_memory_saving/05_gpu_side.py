"""What the accounting says at Stable Diffusion 1.x scale (architectures
built on the meta device: sizes only, no weights), and the one GPU
measurement the project has recorded that bears on offload."""

import json

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel

from infralens import glue
from infralens.offload import nbytes
from infralens.small_vae import ROOT

# --8<-- [start:sd_scale]
with torch.device("meta"):  # shapes only: no memory, no download
    vae = AutoencoderKL(  # SD 1.x VAE architecture
        block_out_channels=[128, 256, 512, 512],
        layers_per_block=2,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
    ).half()
    unet = UNet2DConditionModel(  # SD 1.x UNet architecture
        block_out_channels=[320, 640, 1280, 1280],
        cross_attention_dim=768,
        down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
        up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    ).half()
gib = 2**30
steps = 30
print(f"UNet float16: {nbytes(unet) / gib:.2f} GiB")
print(f"VAE  float16: {nbytes(vae) / gib:.2f} GiB")
print(f"UNet offloaded layer by layer, {steps} steps: ", end="")
print(f"{steps * nbytes(unet) / gib:.0f} GiB over the bus")
# --8<-- [end:sd_scale]

# --8<-- [start:gpu_record]
record = json.loads((ROOT / "data/sd_vae_decode_cuda.json").read_text())
print(record["gpu"], "torch", record["torch"], record["date"])
print("SD 1.x VAE layout, random weights; decode activations above them:")
for row in record["rows"]:
    if row["dtype"] == "float16" and row["px"] in (512, 1024):
        print(f"  {row['px']:>4} px float16: {row['peak_mib']:>5,} MiB")
# --8<-- [end:gpu_record]

peaks = {
    r["px"]: r["peak_mib"] for r in record["rows"] if r["dtype"] == "float16"
}
assert record["gpu"] == "NVIDIA H200"
assert peaks[1024] * 2**20 > nbytes(vae)  # activations outweigh the weights
glue("sd_unet_gib", f"{nbytes(unet) / gib:.2f}")
glue("sd_vae_gib", f"{nbytes(vae) / gib:.2f}")
glue("sd_steps", steps)
glue("sd_seq_gib", f"{steps * nbytes(unet) / gib:.0f}")
glue("gpu", record["gpu"])
glue("gpu_dec512", f"{peaks[512]:,}")
glue("gpu_dec1024", f"{peaks[1024]:,}")
glue("sd_ratio", f"{nbytes(unet) / nbytes(vae):.0f}")
glue("px_lo", 512)
glue("px_hi", 1024)
glue("sd_vae_mib", f"{nbytes(vae) / 2**20:,.0f}")
