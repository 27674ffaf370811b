"""A condition fed at the wrong place: ignored without a word, multiplied
by zero, or rejected by a shape check."""

import textwrap

import torch
from diffusers import StableDiffusionImg2ImgPipeline

from infralens import glue
from infralens.small_vae import cat_image
from infralens.tiny_pipeline import load

pipe = load()
i2i = StableDiffusionImg2ImgPipeline(
    **pipe.components, requires_safety_checker=False
)
i2i.set_progress_bar_config(disable=True)
cat = (cat_image() + 1) / 2  # (1, 3, 128, 192) in [0, 1]
text = "a photo of grass"
run = dict(num_inference_steps=10, output_type="latent")


def seeded():
    return torch.Generator().manual_seed(0)


# --8<-- [start:ignored]
plain = pipe(text, height=128, width=192, generator=seeded(), **run).images
with_image = pipe(
    text, height=128, width=192, generator=seeded(), image=cat, **run
).images  # text-to-image has no image input; the keyword is swallowed
same = torch.equal(plain, with_image)
print("text-to-image with and without image=cat, identical:", same)
# --8<-- [end:ignored]

assert same

# --8<-- [start:strength_one]
grey = torch.full_like(cat, 0.5)
outs = {
    name: i2i(text, picture, 1.0, generator=seeded(), **run).images
    for name, picture in (("cat", cat), ("grey", grey))
}
t0 = int(pipe.scheduler.timesteps[0])  # where strength 1.0 starts
kept = float(pipe.scheduler.alphas_cumprod[t0].sqrt())
print(f"strength 1.0 starts at t={t0}; weight of the image there: {kept}")
print("cat and grey give identical latents:", torch.equal(*outs.values()))
# --8<-- [end:strength_one]

assert torch.equal(outs["cat"], outs["grey"]) and kept == 0
glue("t0", t0)


# --8<-- [start:breaks]
def attempt(label, fn):
    try:
        fn()
        print(f"{label}: ran")
    except Exception as err:  # show the failure, not a traceback
        print(f"{label}: {type(err).__name__}")
        for line in textwrap.wrap(str(err), 72, max_lines=2):
            print("   ", line)


with torch.no_grad():
    z = pipe.vae.encode(cat * 2 - 1).latent_dist.mode()  # (1, 4, 16, 24)
    sample, t = torch.randn(1, 4, 16, 24), torch.tensor(500)
    attempt(
        "image latents as the text",
        lambda: pipe.unet(sample, t, encoder_hidden_states=z),
    )
    tokens = z.flatten(2).transpose(1, 2)  # (1, 384, 4): as a sequence
    attempt(
        "image latents as 384 text tokens",
        lambda: pipe.unet(sample, t, encoder_hidden_states=tokens),
    )
# --8<-- [end:breaks]
