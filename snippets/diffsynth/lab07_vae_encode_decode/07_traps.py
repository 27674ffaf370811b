"""The common mistakes, each run for real and measured."""

import torch
from diffusers import DDIMScheduler

from infralens import glue
from infralens.small_vae import cat_image, load, psnr

vae = load()
image = cat_image()
s = vae.config.scaling_factor
with torch.no_grad():
    z = vae.encode(image).latent_dist.mode()  # (1, 4, 16, 24), unscaled


def show(z_for_decoder):
    with torch.no_grad():
        out = vae.decode(z_for_decoder).sample.clamp(-1, 1)
    return psnr(image, out)


# --8<-- [start:scale_traps]
latents = z * s
right = show(latents / s)
no_unscale = show(latents)  # forgot "/ s" before decode
twice = show(latents * s / s)  # scaled twice on the way in
print(f"correct:               {right:5.1f} dB")
print(f"forgot to unscale:     {no_unscale:5.1f} dB")
print(f"scaled twice:          {twice:5.1f} dB")
# --8<-- [end:scale_traps]

# --8<-- [start:shift_trap]
shift = z.mean().item()  # an SD3/FLUX-style contract: shift, then scale
z_sd3 = (z - shift) * s
kept = show(z_sd3 / s + shift)
dropped = show(z_sd3 / s)  # unscaled, but the shift never added back
print(f"shift {shift:+.3f} restored: {kept:5.1f} dB")
print(f"shift ignored:         {dropped:5.1f} dB")
# --8<-- [end:shift_trap]

# --8<-- [start:noise_trap]
sched = DDIMScheduler(
    beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012
)
t = torch.tensor([500])  # strength 0.5: noise half way up the schedule
a = sched.alphas_cumprod[t]
noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(0))
for name, x0 in [("scaled", z * s), ("unscaled", z)]:
    x_t = sched.add_noise(x0, noise, t)
    snr = 10 * torch.log10(a * x0.var() / ((1 - a) * noise.var()))
    print(f"{name:>8}: signal-to-noise {snr.item():+5.1f} dB")
# --8<-- [end:noise_trap]

# --8<-- [start:not_denoiser]
noisy = sched.add_noise(z * s, noise, t)
clean_psnr = show(z)
vae_on_noise = show(noisy / s)  # decode the noisy latent, no loop
print(f"decode(clean latent):  {clean_psnr:5.1f} dB")
print(f"decode(noisy latent):  {vae_on_noise:5.1f} dB  <- noise stays")
# --8<-- [end:not_denoiser]

assert no_unscale < right - 3 and twice < right - 3
assert dropped < kept - 1
assert vae_on_noise < clean_psnr - 3
glue("right", f"{right:.1f}")
glue("no_unscale", f"{no_unscale:.1f}")
glue("twice", f"{twice:.1f}")
glue("shift_drop", f"{dropped:.1f}")
glue("noisy_decode", f"{vae_on_noise:.1f}")
