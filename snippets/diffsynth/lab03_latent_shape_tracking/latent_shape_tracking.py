# %% [markdown]
# # Lab 03 starter: latent shape tracking
#
# Follow the latent through a text-to-image pipeline, then through a video
# VAE and into the tokens of a DiT, printing its shape at each boundary.
# Every line runs; the outputs below come from the build of this site.

# %%
import torch
from diffusers import AutoencoderKLWan
from diffusers.pipelines.flux.pipeline_flux import FluxPipeline

from infralens.tiny_pipeline import MODEL_DIR, load

PIPELINE_SOURCE = MODEL_DIR  # (1)!
pipe = load(folder=PIPELINE_SOURCE)
factor = pipe.vae_scale_factor  # (2)!
channels = pipe.unet.config.in_channels
print(f"VAE factor x{factor}, latent channels {channels}")

# %%
seen = {"unet": [], "vae.decoder": []}


def record(name):
    def hook(module, args, kwargs, output):
        out = output[0] if isinstance(output, tuple) else output
        out = getattr(out, "sample", out)
        seen[name].append((tuple(args[0].shape), tuple(out.shape)))

    return hook


pipe.unet.register_forward_hook(record("unet"), with_kwargs=True)
pipe.vae.decoder.register_forward_hook(record("vae.decoder"), with_kwargs=True)

# %%
prompts = ["a photo of grass", "a photo of a rocket"]
height, width = 128, 192  # (3)!
latents = pipe(
    prompts,
    num_images_per_prompt=2,  # (4)!
    height=height,
    width=width,
    num_inference_steps=4,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="latent",  # (5)!
).images  # (B, C, H/8, W/8)
with torch.no_grad():
    images = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample
print("latents:", tuple(latents.shape))
for shape_in, shape_out in sorted(set(seen["unet"])):
    print(f"unet: {shape_in} -> {shape_out}, {len(seen['unet'])} calls")
print("decoder:", seen["vae.decoder"])
print("images:", tuple(images.shape))

# %% [markdown]
# A video latent has one more axis: frames. The next model has Wan 2.1's
# architecture at tiny widths and **random weights: only shapes are the
# point**.

# %%
torch.manual_seed(0)
video_vae = AutoencoderKLWan(  # (6)!
    base_dim=8,
    z_dim=16,
    num_res_blocks=1,
    latents_mean=[0.0] * 16,
    latents_std=[1.0] * 16,
).eval()
video = torch.randn(1, 3, 9, 64, 96)  # (B, C, F, H, W)
with torch.no_grad():
    z = video_vae.encode(video).latent_dist.mode()  # (B, 16, 1 + F // 4, ...)
print("video:", tuple(video.shape), "-> z:", tuple(z.shape))

# %%
B, C, h, w = latents.shape
tokens = FluxPipeline._pack_latents(latents, B, C, h, w)  # (7)!
back = FluxPipeline._unpack_latents(tokens, height, width, factor)
print("latents", tuple(latents.shape), "-> tokens", tuple(tokens.shape))
print("unpacked == latents:", torch.equal(back, latents))
