# %% [markdown]
# # Lab 05 starter: conditioning flow
#
# Follow a prompt from text to token ids to embeddings and into the UNet's
# cross-attention, then condition on a picture through the starting
# latents. Every line runs; the outputs below come from the build of this
# site.

# %%
import numpy as np
import torch
from diffusers import StableDiffusionImg2ImgPipeline

from infralens import save_image
from infralens.small_vae import cat_image
from infralens.tiny_pipeline import MODEL_DIR, load

PIPELINE_SOURCE = MODEL_DIR  # (1)!
pipe = load(folder=PIPELINE_SOURCE)
prompt = "a photo of a brick wall"

# %%
tok = pipe.tokenizer
ids = tok(
    prompt,
    padding="max_length",  # (2)!
    max_length=tok.model_max_length,
    truncation=True,
    return_tensors="pt",
).input_ids  # (1, 16)
with torch.no_grad():
    embeds = pipe.text_encoder(ids).last_hidden_state  # (1, 16, 64)
print("ids", tuple(ids.shape), "-> embeddings", tuple(embeds.shape))

# %%
given = []  # (query input, key/value input) of one cross-attention module
attn2 = pipe.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2


def watch(module, args, kwargs):  # (3)!
    given.append((args[0].shape, kwargs["encoder_hidden_states"].shape))


attn2.register_forward_pre_hook(watch, with_kwargs=True)

# %%
guidance_scale = 3.0  # (4)!
text_only = pipe(
    prompt,
    height=128,
    width=192,
    guidance_scale=guidance_scale,
    num_inference_steps=15,
    generator=torch.Generator().manual_seed(0),
    output_type="np",
).images[0]  # (128, 192, 3) in [0, 1]
queries, keys = given[0]
print(f"attn2: queries from latents {tuple(queries)}, ", end="")
print(f"keys and values from text {tuple(keys)}, {len(given)} calls")

# %%
i2i = StableDiffusionImg2ImgPipeline(  # (5)!
    **pipe.components, requires_safety_checker=False
)
i2i.set_progress_bar_config(disable=True)
cat = (cat_image() + 1) / 2  # (1, 3, 128, 192) in [0, 1]
strength = 0.3  # (6)!
with_cat = i2i(
    prompt,
    image=cat,
    strength=strength,
    guidance_scale=guidance_scale,
    num_inference_steps=15,
    generator=torch.Generator().manual_seed(0),
    output_type="np",
).images[0]
picture = cat[0].permute(1, 2, 0).numpy()
strip = np.concatenate([text_only, picture, with_cat], axis=1)
save_image(
    strip,
    "prompt_image_both.png",
    alt=f"Three {picture.shape[0]}x{picture.shape[1]} images side by side: "
    f"the pipeline's output for '{prompt}' alone; the held-out cat photo, "
    "the image condition; and image-to-image from the cat with the same "
    f"prompt at strength {strength}.",
)
print("left: prompt only; middle: the image condition; right: both")
