"""The common mistakes, each run for real and measured."""

import torch
from diffusers import DDIMScheduler

from infralens import glue
from infralens.small_vae import cat_image, image_set, load, psnr

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
no_unscale = show(latents)  # forgot "/ s": the decoder gets z * s
twice = (z * s * s).std().item()  # scaled twice: what the denoiser sees
print(f"correct:                       {right:5.1f} dB")
print(f"forgot to unscale (x{s:.5f}):   {no_unscale:5.1f} dB")
print(f"scaled twice: denoiser input std {twice:.2f}, not {latents.std():.2f}")
# the same slip with Stable Diffusion's factor, 0.18215
sd_slip = show(z * 0.18215)
print(f"forgot to unscale (x0.18215):   {sd_slip:5.1f} dB")
# --8<-- [end:scale_traps]

# --8<-- [start:shift_trap]
# An SD3/FLUX-style contract for this VAE, with a shift taken from data:
# the mean latent of the packaged images, per channel like Wan's
# latents_mean; encode (z - shift) * s2.
names, images = image_set(128, 192)
with torch.no_grad():
    zset = vae.encode(images).latent_dist.mode()
shift = zset.mean(dim=(0, 2, 3), keepdim=True)  # (1, 4, 1, 1)
s2 = 1 / (zset - shift).std().item()
coded = (z - shift) * s2
kept = show(coded / s2 + shift)
dropped = show(coded / s2)  # unscaled, but the shift never added back
print("per-channel shift:", [round(v, 3) for v in shift.flatten().tolist()])
print(f"shift restored:                 {kept:5.1f} dB")
print(f"shift ignored:                  {dropped:5.1f} dB")
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

assert no_unscale < right - 1  # a factor of 0.8 already costs dB
assert sd_slip < no_unscale - 5  # a factor of 0.18 costs far more
assert abs(twice - s * latents.std().item()) < 1e-4
assert dropped < kept - 0.1  # quieter than the scale traps, still a loss
assert kept - dropped < right - no_unscale
assert vae_on_noise < clean_psnr - 3
glue("right", f"{right:.1f}")
glue("factor", s)
glue("no_unscale", f"{no_unscale:.1f}")
glue("twice", f"{twice:.2f}")
glue("sd_slip", f"{sd_slip:.1f}")
glue("unscale_cost", f"{right - no_unscale:.1f}")
glue("shift_kept", f"{kept:.1f}")
glue("shift_drop", f"{dropped:.1f}")
glue("noisy_decode", f"{vae_on_noise:.1f}")
