"""Real VAEs' contracts, computed from their architectures on meta."""

import torch
from diffusers import (
    AutoencoderKL,
    AutoencoderKLCogVideoX,
    AutoencoderKLHunyuanVideo,
    AutoencoderKLLTXVideo,
    AutoencoderKLQwenImage,
    AutoencoderKLWan,
)

from infralens import glue

# --8<-- [start:configs]
SD = dict(
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
)
NO_QUANT = dict(use_quant_conv=False, use_post_quant_conv=False)
MODELS = {  # class, config: diffusers defaults unless stated
    "SD 1.x / 2.x": (AutoencoderKL, dict(SD, latent_channels=4)),
    "SDXL": (AutoencoderKL, dict(SD, latent_channels=4)),
    "SD3": (AutoencoderKL, dict(SD, latent_channels=16, **NO_QUANT)),
    "FLUX.1": (AutoencoderKL, dict(SD, latent_channels=16, **NO_QUANT)),
    "Wan 2.1": (AutoencoderKLWan, {}),
    "CogVideoX": (AutoencoderKLCogVideoX, {}),
    "HunyuanVideo": (AutoencoderKLHunyuanVideo, {}),
    "LTX-Video": (AutoencoderKLLTXVideo, {}),
}
# --8<-- [end:configs]

# --8<-- [start:measure]
print(f"{'model':<13}{'params':>8}  latent  {'in -> z':<28}")
counts, factors = {}, {}
for name, (cls, cfg) in MODELS.items():
    with torch.device("meta"):  # no memory, no download
        vae = cls(**cfg)
    video = cls is not AutoencoderKL
    shape = (1, 3, 17, 256, 256) if video else (1, 3, 256, 256)
    with torch.no_grad():
        z = vae.encode(torch.empty(shape, device="meta")).latent_dist.mode()
    n = sum(p.numel() for p in vae.parameters())
    factors[name] = (  # (time, space, channels); time None for images
        (shape[2] - 1) // (z.shape[2] - 1) if video else None,
        shape[-1] // z.shape[-1],
        z.shape[1],
    )
    counts[name] = (
        sum(p.numel() for p in vae.encoder.parameters()),
        sum(p.numel() for p in vae.decoder.parameters()),
    )
    io = (
        f"{'x'.join(map(str, shape[2:]))} -> {'x'.join(map(str, z.shape[2:]))}"
    )
    print(f"{name:<13}{n / 1e6:>7.1f}M  {z.shape[1]:>6}  {io:<28}")
# --8<-- [end:measure]

# --8<-- [start:constants]
classes = {  # the constants each class ships as its config defaults
    "Wan 2.1": AutoencoderKLWan,
    "Qwen-Image": AutoencoderKLQwenImage,
    "CogVideoX": AutoencoderKLCogVideoX,
    "HunyuanVideo": AutoencoderKLHunyuanVideo,
    "LTX-Video": AutoencoderKLLTXVideo,
}
stats = {}
for name, cls in classes.items():
    with torch.device("meta"):
        vae = cls()
    cfg, buffers = vae.config, dict(vae.named_buffers())
    stats[name] = (cfg.get("latents_mean"), cfg.get("latents_std"))
    if cfg.get("latents_mean"):
        per_channel = f"{len(cfg.latents_mean)} means, stds in config"
    elif "latents_mean" in buffers:
        n = buffers["latents_mean"].numel()
        per_channel = f"{n} means, stds stored with the weights"
    else:
        per_channel = "-"
    scale = str(cfg.get("scaling_factor"))
    print(f"{name:<13} scaling_factor {scale:<11} {per_channel}")
same = stats["Qwen-Image"] == stats["Wan 2.1"]
print("Qwen-Image's defaults equal Wan 2.1's:", same)
# --8<-- [end:constants]

# --8<-- [start:check]
enc, dec = counts["SD 1.x / 2.x"]
print(f"SD encoder {enc:,} (published 34,163,592)")
print(f"SD decoder {dec:,} (published 49,490,179)")
# --8<-- [end:check]

assert (enc, dec) == (34_163_592, 49_490_179)
images = ["SD 1.x / 2.x", "SDXL", "SD3", "FLUX.1"]
videos = ["Wan 2.1", "CogVideoX", "HunyuanVideo"]
image_space = {factors[m][1] for m in images}
video_time = {factors[m][0] for m in videos}
assert len(image_space) == 1 and len(video_time) == 1  # as the page says
(image_space,), (video_time,) = image_space, video_time
assert factors["SD3"][2] == factors["FLUX.1"][2]
ltx_time, ltx_space, ltx_channels = factors["LTX-Video"]
assert ltx_time > video_time
glue("image_space", image_space)
glue("sd3_channels", factors["SD3"][2])
glue("video_time", video_time)
glue("ltx_time", ltx_time)
glue("ltx_space", ltx_space)
glue("ltx_channels", ltx_channels)
assert same  # Qwen-Image ships Wan 2.1's statistics
assert stats["CogVideoX"] == (None, None)
glue("sd_enc", f"{enc:,}")
glue("sd_dec", f"{dec:,}")
