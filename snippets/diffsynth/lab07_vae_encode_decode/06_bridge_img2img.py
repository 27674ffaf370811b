"""The bridge: encode once, denoise in latent space, decode once, with
the tiny pipeline's trained UNet and real classifier-free guidance."""

import torch
from diffusers import StableDiffusionImg2ImgPipeline

from infralens import glue, save_image
from infralens.small_vae import cat_image, psnr, to_rgb
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd: its vae/ is the small VAE
i2i = StableDiffusionImg2ImgPipeline(
    **pipe.components, requires_safety_checker=False
)  # the same modules: hooks on them see both pipelines' calls
i2i.set_progress_bar_config(disable=True)
vae, unet, sched = pipe.vae, pipe.unet, pipe.scheduler
image = cat_image()  # (1, 3, 128, 192) in [-1, 1]
prompt, g, strength, steps = "a photo of grass", 5.0, 0.4, 20

# --8<-- [start:hooks]
calls = {"vae.encoder": [], "unet": [], "vae.decoder": []}


def count(name):
    def hook(module, args, kwargs, output):
        x = args[0] if args else kwargs["sample"]
        calls[name].append(tuple(x.shape))  # what this module was given

    return hook


for name, module in (
    ("vae.encoder", vae.encoder),
    ("unet", unet),
    ("vae.decoder", vae.decoder),
):
    module.register_forward_hook(count(name), with_kwargs=True)
# --8<-- [end:hooks]

# --8<-- [start:loop]
gen = torch.Generator().manual_seed(0)
with torch.no_grad():
    cond, uncond = i2i.encode_prompt(prompt, "cpu", 1, True)  # (1, 16, 64)
    text = torch.cat([uncond, cond])  # CFG: one batch of two
    sched.set_timesteps(steps)
    timesteps, n = i2i.get_timesteps(steps, strength, "cpu")
    x = i2i.image_processor.preprocess((image + 1) / 2)  # [0,1] -> [-1,1]
    latents = i2i.prepare_latents(  # encode, * scale, add noise
        x, timesteps[:1], 1, 1, torch.float32, "cpu", gen
    )  # (1, 4, 16, 24)
    for t in timesteps:
        both = sched.scale_model_input(torch.cat([latents] * 2), t)
        v = unet(both, t, encoder_hidden_states=text).sample  # velocity
        v_uncond, v_text = v.chunk(2)
        v = v_uncond + g * (v_text - v_uncond)
        latents = sched.step(v, t, latents).prev_sample
    s = vae.config.scaling_factor
    out = vae.decode(latents / s).sample  # (1, 3, 128, 192)
for name, shapes in calls.items():
    print(f"{name:<11} ran {len(shapes):>2}x on {sorted(set(shapes))}")
print(f"{n} of {steps} steps, from t={int(timesteps[0])}")
print(f"PSNR out vs in: {psnr(image, out.clamp(-1, 1)):.1f} dB")
save_image(
    to_rgb(out),
    "cat_img2img_a_photo_of_grass_strength_0.4.png",
    alt=f"The cat photo after image-to-image with the prompt '{prompt}' "
    f"at strength {strength}: a blurry green and white texture like "
    "grass, no cat left in it",
)
# --8<-- [end:loop]
by_hand = {name: list(shapes) for name, shapes in calls.items()}

# --8<-- [start:same]
for shapes in calls.values():
    shapes.clear()
piped = i2i(
    prompt,
    image=(image + 1) / 2,
    strength=strength,
    num_inference_steps=steps,
    guidance_scale=g,
    generator=torch.Generator().manual_seed(0),
    output_type="pt",
).images  # (1, 3, 128, 192) in [0, 1]
same = torch.equal(piped, (out * 0.5 + 0.5).clamp(0, 1))
print("pipeline call == loop by hand:", same)
print("same calls:", calls == by_hand)
# --8<-- [end:same]

assert same and calls == by_hand
assert len(calls["vae.encoder"]) == 1 and len(calls["vae.decoder"]) == 1
assert calls["unet"] == [(2, 4, 16, 24)] * n
glue("steps_run", n)
glue("start_t", int(timesteps[0]))
glue("strength", strength)
glue("skipped_pct", f"{100 * (steps - n) / steps:.0f}")
glue("guidance", g)
glue("psnr", f"{psnr(image, out.clamp(-1, 1)):.1f}")
