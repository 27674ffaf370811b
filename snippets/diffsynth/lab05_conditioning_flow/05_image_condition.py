"""An image condition through image-to-image latents: where the picture
enters the UNet, and what it does that no caption can."""

import matplotlib.pyplot as plt
import torch
from diffusers import StableDiffusionImg2ImgPipeline

from infralens import glue, save_figure
from infralens.small_vae import cat_image, psnr, to_rgb
from infralens.tiny_pipeline import SUBJECTS, load, prompt

pipe = load()
i2i = StableDiffusionImg2ImgPipeline(
    **pipe.components, requires_safety_checker=False
)  # the same modules: hooks on them see both pipelines
i2i.set_progress_bar_config(disable=True)
cat = cat_image()  # (1, 3, 128, 192) in [-1, 1], never seen in training
with torch.no_grad():
    cat_latents = pipe.vae.encode(cat).latent_dist.mode()  # (1, 4, 16, 24)
size = dict(height=128, width=192)

# --8<-- [start:hooks]
encoder_calls, unet_calls = [], []
pipe.vae.encoder.register_forward_hook(
    lambda module, args, out: encoder_calls.append(tuple(args[0].shape))
)
pipe.unet.register_forward_pre_hook(
    lambda module, args, kwargs: unet_calls.append(
        (args[0].clone(), int(args[1]), kwargs["encoder_hidden_states"].shape)
    ),
    with_kwargs=True,
)
# --8<-- [end:hooks]


# --8<-- [start:path]
def corr(a, b):  # Pearson correlation of two tensors' values
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return float(a @ b / (a.norm() * b.norm()))


text, strength, r = "a photo of grass", 0.6, {}
for name in ("text only", "image + text"):
    encoder_calls.clear(), unet_calls.clear()
    g = torch.Generator().manual_seed(0)
    run = dict(num_inference_steps=5, generator=g, output_type="latent")
    if name == "text only":
        pipe(text, **size, **run)
    else:
        image = (cat + 1) / 2  # the pipeline wants [0, 1]
        i2i(text, image, strength, **run)
    sample, t, text_shape = unet_calls[0]  # the UNet's first call
    r[name] = corr(sample[0], cat_latents[0])
    kept = pipe.scheduler.alphas_cumprod[t].sqrt()  # weight of clean latents
    print(f"{name}: VAE encoder ran on {encoder_calls}")
    print(f"  UNet, first call: t={t}, sample {tuple(sample.shape)}", end="")
    print(f", text {tuple(text_shape)}")
    print(f"  sample vs the cat's latents: r = {r[name]:.2f}", end="")
    print(f" (sqrt(alpha_bar) at t: {kept:.2f})")
# --8<-- [end:path]

assert abs(r["text only"]) < 0.1 and r["image + text"] > 0.25
glue("r_text", f"{r['text only']:.2f}")
glue("r_image", f"{r['image + text']:.2f}")
glue("strength", strength)

# --8<-- [start:no_prompt]
captions = [prompt(n) for n in SUBJECTS]  # one caption per training image
drawn = pipe(
    captions,
    num_inference_steps=10,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="pt",
    **size,
).images  # (13, 3, 128, 192) in [0, 1]
drawn = drawn * 2 - 1  # to [-1, 1], like the cat
scores = [psnr(cat, x[None]) for x in drawn]
best = max(range(len(captions)), key=scores.__getitem__)
edited = i2i(
    "",  # no prompt at all: the picture is the only condition
    (cat + 1) / 2,
    0.5,
    num_inference_steps=10,
    guidance_scale=1.0,
    generator=torch.Generator().manual_seed(0),
    output_type="pt",
).images
edited = edited * 2 - 1
print(
    f"{len(captions)} captions, best {captions[best]!r}: "
    f"PSNR {scores[best]:.1f} dB against the cat"
)
print(f"worst caption: PSNR {min(scores):.1f} dB")
print(f"the cat as the condition, no prompt: PSNR {psnr(cat, edited):.1f} dB")
# --8<-- [end:no_prompt]

assert psnr(cat, edited) > max(scores) + 2
glue("n_captions", len(captions))
glue("best_caption", captions[best])
glue("best_db", f"{scores[best]:.1f}")
glue("image_db", f"{psnr(cat, edited):.1f}")

# --8<-- [start:figure]
fig, axes = plt.subplots(1, 3, figsize=(9, 2.4), layout="constrained")
panels = [
    (cat, "the condition (held-out cat)"),
    (drawn[best][None], f"best caption: {scores[best]:.1f} dB"),
    (edited, f"image condition: {psnr(cat, edited):.1f} dB"),
]
for ax, (x, title) in zip(axes, panels, strict=True):
    ax.imshow(to_rgb(x))
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
save_figure(
    fig,
    "image_condition_versus_captions.png",
    alt=f"Three {cat.shape[2]}x{cat.shape[3]} images in a row. The "
    "held-out cat photo, the condition; the image drawn for the closest "
    f"of {len(captions)} captions, '{captions[best]}', "
    f"{scores[best]:.1f} dB PSNR against the cat; and the cat given as an "
    f"image condition with no prompt, {psnr(cat, edited):.1f} dB, closer "
    "to the cat than any caption's image.",
)
# --8<-- [end:figure]
