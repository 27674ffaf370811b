"""Precision: bfloat16 versus float32 decode, and the float16 ceiling."""

import torch

from infralens import glue
from infralens.small_vae import cat_image, load, psnr

vae = load()
with torch.no_grad():
    z = vae.encode(cat_image()).latent_dist.mode()  # (1, 4, 16, 24)

# --8<-- [start:bf16]
with torch.no_grad():
    ref = vae.decode(z).sample  # float32
    vae_bf16 = load(dtype=torch.bfloat16)
    low = vae_bf16.decode(z.to(torch.bfloat16)).sample.float()
print(f"max |bf16 - fp32|: {(low - ref).abs().max():.4f}")
print(f"PSNR bf16 vs fp32: {psnr(ref.clamp(-1, 1), low.clamp(-1, 1)):.1f} dB")
# --8<-- [end:bf16]

# --8<-- [start:peaks]
peaks = {}


def record(name):
    def hook(module, args, out):
        peaks[name] = max(peaks.get(name, 0.0), out.abs().max().item())

    return hook


for name, module in vae.decoder.named_modules():
    if name.count(".") == 1:  # one level below the decoder's blocks
        module.register_forward_hook(record(name))
with torch.no_grad():
    vae.decode(z)
top = sorted(peaks.items(), key=lambda kv: -kv[1])[:3]
fp16_max = torch.finfo(torch.float16).max
for name, value in top:
    print(f"{name:<22} peak |activation| {value:10.1f}")
print(f"float16 largest finite value: {fp16_max:,.0f}")
# --8<-- [end:peaks]

assert top[0][1] < fp16_max
glue("bf16_psnr", f"{psnr(ref.clamp(-1, 1), low.clamp(-1, 1)):.1f}")
glue("peak_act", f"{top[0][1]:.0f}")
glue("fp16_max", f"{fp16_max:,.0f}")
