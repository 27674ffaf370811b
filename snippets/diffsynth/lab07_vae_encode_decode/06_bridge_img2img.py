"""The bridge: encode once, denoise in latent space, decode once."""

import torch
from diffusers import DDIMScheduler

from infralens import glue
from infralens.small_vae import cat_image, load, psnr

vae = load()
image = cat_image()  # (1, 3, 128, 192)
calls = {"vae.encode": 0, "denoiser": 0, "vae.decode": 0}
shapes = set()


# --8<-- [start:standin]
class OracleDenoiser:
    """STAND-IN, not a model: it is handed the clean latent and returns
    the exact noise, so the loop below can be traced without a UNet."""

    def __init__(self, clean, scheduler):
        self.clean, self.alphas = clean, scheduler.alphas_cumprod

    def __call__(self, x_t, t):
        calls["denoiser"] += 1
        shapes.add(tuple(x_t.shape))  # record what the loop sees
        a = self.alphas[t]
        return (x_t - a.sqrt() * self.clean) / (1 - a).sqrt()


# --8<-- [end:standin]


# --8<-- [start:loop]
scheduler = DDIMScheduler(
    beta_schedule="scaled_linear",
    beta_start=0.00085,
    beta_end=0.012,
    clip_sample=False,
)  # SD's betas
scheduler.set_timesteps(20)
strength = 0.6
start = int(20 * (1 - strength))  # skip the first 40% of the steps
s = vae.config.scaling_factor
with torch.no_grad():
    calls["vae.encode"] += 1
    gen = torch.Generator().manual_seed(0)
    z = vae.encode(image).latent_dist.sample(generator=gen)
    latents = z * s  # (1, 4, 16, 24)
    noise = torch.randn(latents.shape, generator=gen)
    t0 = scheduler.timesteps[start]
    latents = scheduler.add_noise(latents, noise, t0.reshape(1))
    denoiser = OracleDenoiser(z * s, scheduler)
    for t in scheduler.timesteps[start:]:
        eps = denoiser(latents, t)
        latents = scheduler.step(eps, t, latents).prev_sample
    calls["vae.decode"] += 1
    out = vae.decode(latents / s).sample.clamp(-1, 1)  # (1, 3, 128, 192)
for name, n in calls.items():
    print(f"{name:<10} called {n:>2}x")
print("shapes inside the loop:", shapes)
print(f"start timestep {int(t0)}, PSNR out vs in: {psnr(image, out):.1f} dB")
# --8<-- [end:loop]

assert calls == {"vae.encode": 1, "denoiser": 12, "vae.decode": 1}
assert shapes == {(1, 4, 16, 24)}
glue("steps_run", calls["denoiser"])
glue("start_t", int(t0))
glue("strength", strength)
glue("skipped_pct", f"{100 * start / len(scheduler.timesteps):.0f}")
