"""What the call hides, part 2: where the starting latents come from, and
what scale_model_input does to them before every UNet call."""

import warnings

import torch
from diffusers import EulerDiscreteScheduler

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd: its scheduler is a DDIMScheduler
PROMPT = "a photo of a brick wall"

# --8<-- [start:prepare]
first_input = []
pipe.unet.register_forward_hook(
    lambda m, args, out: first_input.append(args[0])
)
pipe(
    PROMPT,
    height=128,
    width=128,
    num_inference_steps=1,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
)

latents = pipe.prepare_latents(  # (1)!
    batch_size=1,
    num_channels_latents=pipe.unet.config.in_channels,
    height=128,
    width=128,
    dtype=torch.float32,
    device="cpu",
    generator=torch.Generator().manual_seed(0),
)
halves = first_input[0].chunk(2)  # the UNet's (2, 4, 16, 16) input
print("latents:", tuple(latents.shape), f"std {latents.std():.3f}")
print("vae_scale_factor:", pipe.vae_scale_factor)
print("init_noise_sigma:", float(pipe.scheduler.init_noise_sigma))
print(
    "both halves of the first UNet input are these latents:",
    all(torch.equal(h, latents) for h in halves),
)
# --8<-- [end:prepare]

# --8<-- [start:scale]
ddim = pipe.scheduler
ddim.set_timesteps(20)
x = torch.cat([latents] * 2)  # (2, 4, 16, 16)
same = ddim.scale_model_input(x, ddim.timesteps[0]) is x
print("DDIM scale_model_input returns its input unchanged:", same)

cfg = ddim.config
print(
    f"rescale_betas_zero_snr: {cfg.rescale_betas_zero_snr}, "
    f"timestep_spacing: {cfg.timestep_spacing!r}"
)
euler = EulerDiscreteScheduler.from_config(cfg)  # (1)!
with warnings.catch_warnings():  # NumPy 2 warns about np.array(tensor)
    warnings.simplefilter("ignore", DeprecationWarning)  # in set_timesteps
    euler.set_timesteps(20)
last = float(ddim.alphas_cumprod[-1]), float(euler.alphas_cumprod[-1])
print(f"last alpha-bar: DDIM {last[0]}, Euler {last[1]:.3g} (2**-24)")
sigma = float(euler.sigmas[0])  # sqrt((1 - alpha-bar) / alpha-bar)
print(f"Euler's first timestep {euler.timesteps[0]:.0f}, sigma {sigma:.0f}")
start = x * euler.init_noise_sigma  # what Euler's loop starts from
unet_sees = euler.scale_model_input(start, euler.timesteps[0])
print(
    f"Euler init_noise_sigma {float(euler.init_noise_sigma):.0f}: "
    f"start std {start.std():.0f}, UNet sees std {unet_sees.std():.3f}"
)
# --8<-- [end:scale]

assert latents.shape == (1, 4, 16, 16) and same
assert all(torch.equal(h, latents) for h in halves)
assert abs(unet_sees.std() - latents.std()) < 1e-3
assert cfg.rescale_betas_zero_snr and cfg.timestep_spacing == "trailing"
assert last == (0.0, 2**-24) and euler.timesteps[0] == 999
assert abs(sigma - ((1 - 2**-24) / 2**-24) ** 0.5) < 1e-2 * sigma
glue("euler_sigma", f"{float(euler.init_noise_sigma):.0f}")
glue("euler_first_sigma", f"{sigma:.0f}")
glue("first_t", f"{euler.timesteps[0]:.0f}")
glue("euler_start_std", f"{start.std():.0f}")
glue("latent_std", f"{latents.std():.3f}")
