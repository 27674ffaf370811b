"""What the call hides, part 3: the decode divides by the VAE's scaling
factor, and postprocessing turns floats in [-1, 1] into 8-bit pixels."""

import numpy as np
import torch

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd: its vae/ is the small VAE
PROMPT = "a photo of a brick wall"

# --8<-- [start:decode]
final, seen = {}, {}


def keep_latents(pipe, i, t, tensors):  # (1)!
    final["latents"] = tensors["latents"]  # (1, 4, 16, 16) after step i
    return tensors


vae = pipe.vae
vae.post_quant_conv.register_forward_hook(  # runs first in vae.decode
    lambda m, args, out: seen.update(z=args[0])
)
vae.decoder.register_forward_hook(lambda m, args, out: seen.update(x=out))
image = pipe(
    PROMPT,
    height=128,
    width=128,
    num_inference_steps=4,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    callback_on_step_end=keep_latents,
).images[0]
s = vae.config.scaling_factor
print(
    f"VAE decode input == final latents / {s}:",
    torch.equal(seen["z"], final["latents"] / s),
)
x = seen["x"]  # (1, 3, 128, 128), the decoder's float output
print(f"decoder output: {x.dtype}, range [{x.min():.2f}, {x.max():.2f}]")
# --8<-- [end:decode]

# --8<-- [start:postprocess]
unit = (x * 0.5 + 0.5).clamp(0, 1)  # [-1, 1] -> [0, 1], clipped
pixels = (unit[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
returned = np.asarray(image)  # what pipe(...).images[0] holds
print(type(image).__name__, returned.shape, returned.dtype)
print(
    "same pixels as (x * 0.5 + 0.5).clamp(0, 1) * 255, rounded:",
    np.array_equal(returned, pixels),
)

decodes = []
vae.decoder.register_forward_hook(lambda m, a, out: decodes.append(1))
lat = pipe(
    PROMPT,
    height=128,
    width=128,
    num_inference_steps=4,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="latent",
).images
print('output_type="latent":', tuple(lat.shape), f"{len(decodes)} decodes")
# --8<-- [end:postprocess]

assert torch.equal(seen["z"], final["latents"] / s)
assert np.array_equal(returned, pixels) and not decodes
assert torch.equal(lat, final["latents"])
glue("scaling_factor", s)
glue("unscale", f"{1 / s:.2f}")
