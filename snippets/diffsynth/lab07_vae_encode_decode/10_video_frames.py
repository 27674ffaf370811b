"""Video VAEs: frames in, latent frames out, chunk by chunk (Wan-style)."""

import torch
from diffusers import AutoencoderKLWan

from infralens import glue
from infralens.memory import peak_bytes

# --8<-- [start:model]
torch.manual_seed(0)
vae = AutoencoderKLWan(  # Wan 2.1's architecture, tiny widths
    base_dim=8,
    z_dim=4,
    num_res_blocks=1,
    latents_mean=[0.0] * 4,
    latents_std=[1.0] * 4,
).eval()
print("RANDOM WEIGHTS: shapes and memory only, no pictures")
chunks = []  # frames the encoder sees on each call
vae.encoder.register_forward_hook(
    lambda mod, args, kwargs, out: chunks.append(args[0].shape[2]),
    with_kwargs=True,
)
# --8<-- [end:model]

# --8<-- [start:frames]
results = {}
for frames in (1, 5, 8, 9, 17):
    chunks.clear()
    video = torch.randn(1, 3, frames, 32, 32)  # (B, C, F, H, W)
    with torch.no_grad():
        z = vae.encode(video).latent_dist.mode()
        back = vae.decode(z).sample
    results[frames] = (z.shape[2], back.shape[2])
    print(
        f"{frames:>2} frames -> z {tuple(z.shape)} -> {back.shape[2]:>2} "
        f"frames out; encoder chunks {chunks}"
    )
# --8<-- [end:frames]

# --8<-- [start:memory]
for frames in (1, 5, 9, 17, 33):
    video = torch.randn(1, 3, frames, 64, 64)
    mib = peak_bytes(vae.encode, video) / 2**20
    print(f"encode {frames:>2} frames of 64x64: peak {mib:6.2f} MiB")
# --8<-- [end:memory]

assert results[9] == (3, 9) and results[17] == (5, 17)
assert results[8] == (2, 5)  # frames 6-8 never reach the latent
glue("eight_latent", results[8][0])
glue("eight_out", results[8][1])
