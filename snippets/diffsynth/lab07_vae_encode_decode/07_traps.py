"""The common mistakes, each run for real and measured."""

from types import SimpleNamespace

import torch
from diffusers import DDIMScheduler, StableDiffusionImg2ImgPipeline

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
# SD's factor applied to THIS VAE's latent (SD's VAE does not run here):
# what the same slip costs when the factor is far from 1
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
sched = DDIMScheduler(  # Stable Diffusion v1's schedule and DDIM settings
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    steps_offset=1,
    set_alpha_to_one=False,
    clip_sample=False,
)
sched.set_timesteps(50)  # the img2img pipeline's default step count
uses = SimpleNamespace(scheduler=sched)  # all that get_timesteps reads
timesteps, _ = StableDiffusionImg2ImgPipeline.get_timesteps(
    uses, 50, 0.5, "cpu"
)
t = timesteps[:1]  # strength 0.5: the noise the loop starts from
a = sched.alphas_cumprod[t]
noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(0))
sd_like = z * s / (z * s).std() / 0.18215  # std 1 / 0.18215, see text
cases = {
    "this VAE, scaled": z * s,
    "this VAE, unscaled": z,
    "SD-like, scaled": sd_like * 0.18215,
    "SD-like, unscaled": sd_like,
}
print(f"strength 0.5 starts at t={int(t)} (alpha_bar {a.item():.3f})")
snr = {}
for name, x0 in cases.items():
    snr[name] = 10 * torch.log10(a * x0.var() / ((1 - a) * noise.var()))
    print(f"{name:<19} std {x0.std():5.2f}  SNR {snr[name].item():+5.1f} dB")
# --8<-- [end:noise_trap]

# --8<-- [start:not_denoiser]
noisy = sched.add_noise(z * s, noise, t)  # what the loop starts from
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
gap_here = (snr["this VAE, unscaled"] - snr["this VAE, scaled"]).item()
gap_sd = (snr["SD-like, unscaled"] - snr["SD-like, scaled"]).item()
assert 0 < gap_here < 3 and 14 < gap_sd < 16
std_scaled, std_raw = (z * s).std().item(), z.std().item()
assert abs(std_scaled - 1) < 0.2 and abs(std_raw - 1) < 0.2  # both near 1
right_r, no_unscale_r = f"{right:.1f}", f"{no_unscale:.1f}"
glue("right", right_r)
glue("factor", s)
glue("no_unscale", no_unscale_r)
glue("twice", f"{twice:.2f}")
glue("sd_slip", f"{sd_slip:.1f}")
glue("unscale_cost", f"{float(right_r) - float(no_unscale_r):.1f}")
glue("shift_kept", f"{kept:.1f}")
glue("shift_drop", f"{dropped:.1f}")
glue("noisy_decode", f"{vae_on_noise:.1f}")
glue("start_t", int(t))
glue("std_scaled", f"{std_scaled:.2f}")
glue("std_raw", f"{std_raw:.2f}")
glue("snr_gap_here", f"{gap_here:+.1f}")
glue("snr_gap_sd", f"{gap_sd:+.1f}")
glue("sd_raw_std", f"{1 / 0.18215:.2f}")
