# %% [markdown]
# # Lab 04 starter: the scheduler loop, written out
#
# Text-to-image with the tiny pipeline, with the denoising loop written by
# hand: timesteps from the scheduler, one guided UNet call per step, one
# scheduler update per step. Then the one-line pipeline call, which must
# give the same pixels. Every line runs; the outputs below come from the
# build of this site.

# %%
import torch

from infralens import save_image
from infralens.tiny_pipeline import load

pipe = load()  # (1)!
unet, sched = pipe.unet, pipe.scheduler
c = sched.config
print(type(sched).__name__, c.prediction_type, c.timestep_spacing)
print("zero terminal SNR:", c.rescale_betas_zero_snr)

# %%
prompt, steps, g, seed = "a photo of a brick wall", 10, 3.0, 0
sched.set_timesteps(steps)  # (2)!
print("timesteps:", sched.timesteps.tolist())

# %%
with torch.no_grad():
    cond, uncond = pipe.encode_prompt(prompt, "cpu", 1, True)  # (1, 16, 64)
text = torch.cat([uncond, cond])  # (3)!
gen = torch.Generator().manual_seed(seed)
latents = torch.randn((1, 4, 16, 16), generator=gen)  # (B, 4, H/8, W/8)
latents = latents * sched.init_noise_sigma  # (4)!
print("start:", tuple(latents.shape), f"std {latents.std():.3f}")

# %%
with torch.no_grad():
    for i, t in enumerate(sched.timesteps):
        x = torch.cat([latents] * 2)  # (2, 4, 16, 16): uncond, text
        x = sched.scale_model_input(x, t)  # (5)!
        v = unet(x, t, encoder_hidden_states=text).sample  # velocity
        v_uncond, v_text = v.chunk(2)
        v = v_uncond + g * (v_text - v_uncond)  # (6)!
        latents = sched.step(v, t, latents).prev_sample  # (7)!
        signal = sched.alphas_cumprod[int(t)].sqrt()  # clean share
        print(f"step {i}  t={int(t):>3}  input signal {signal:.3f}")

# %%
with torch.no_grad():
    image = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample
image = (image / 2 + 0.5).clamp(0, 1)  # (1, 3, 128, 128) in [0, 1]
piped = pipe(  # (8)!
    prompt,
    num_inference_steps=steps,
    guidance_scale=g,
    generator=torch.Generator().manual_seed(seed),
    output_type="pt",
).images  # (1, 3, 128, 128) in [0, 1]
same = torch.equal(image, piped)
print("loop by hand == pipe(...):", same)
save_image(
    image[0].permute(1, 2, 0),
    "brick_wall_10_steps.png",
    alt=f"The {image.shape[2]}x{image.shape[3]} image the loop above drew "
    f"for '{prompt}' in {steps} steps at guidance {g}, seed {seed}; "
    + ("identical, pixel for pixel," if same else "not identical")
    + " to the image of the one-line pipe(...) call.",
)
