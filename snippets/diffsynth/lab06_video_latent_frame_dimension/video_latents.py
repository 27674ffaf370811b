# %% [markdown]
# # Lab 06 starter: the frame axis of a video latent
#
# Encode a short clip with a Wan-shaped video VAE, look at the latent in
# its video layout and its per-frame layout, change one frame and see
# which latent frames move, then decode. Every line runs; the outputs
# below come from the build of this site.
#
# The VAE has Wan 2.1's architecture at tiny widths and **RANDOM
# weights**: shapes and which frame reaches which latent frame are the
# point, never the pictures.

# %%
import torch

from infralens.video_vae import RANDOM_WEIGHTS, small_wan_vae

vae = small_wan_vae()  # (1)!
print(RANDOM_WEIGHTS)
cfg = vae.config
t_factor, s_factor = cfg.scale_factor_temporal, cfg.scale_factor_spatial
print(f"x{s_factor} in space, x{t_factor} in time, {cfg.z_dim} channels")

# %%
k = 2
frames = 1 + t_factor * k  # (2)!
torch.manual_seed(0)
video = torch.randn(1, 3, frames, 32, 32)  # (B, C, F, H, W)
with torch.no_grad():
    z = vae.encode(video).latent_dist.mode()  # (3)!
print("video:", tuple(video.shape), "-> z:", tuple(z.shape))

# %%
B, C, F, h, w = z.shape
per_frame = z.permute(0, 2, 1, 3, 4).reshape(B * F, C, h, w)  # (4)!
back = per_frame.reshape(B, F, C, h, w).permute(0, 2, 1, 3, 4)
print("per-frame view:", tuple(per_frame.shape))
print("round trip equal:", torch.equal(back, z))

# %%
changed = 4  # an input frame inside the second chunk
edited = video.clone()
edited[:, :, changed] += 1.0  # brighten one frame only
with torch.no_grad():
    z2 = vae.encode(edited).latent_dist.mode()
moved = (z2 - z).abs().amax(dim=(0, 1, 3, 4))  # (5)!
print(f"input frame {changed} changed; largest change per latent frame:")
print([f"{m:.3f}" for m in moved.tolist()])

# %%
with torch.no_grad():
    out = vae.decode(z).sample  # (6)!
print("decoded:", tuple(out.shape))
