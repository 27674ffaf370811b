"""The latent's axes through the tiny pipeline, recorded by hooks on the
real modules: text encoder, UNet and VAE decoder."""

import matplotlib.pyplot as plt
import torch

from infralens import glue, save_figure
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, loaded with DiffusionPipeline.from_pretrained

# --8<-- [start:hooks]
calls = []  # (module, input shape, output shape), in call order
first = {}  # the first tensor each module was given, for the figure


def record(name):
    def hook(module, args, kwargs, output):
        x = args[0]
        y = output[0] if isinstance(output, tuple) else output
        y = getattr(y, "last_hidden_state", y)  # text encoder's output
        calls.append((name, tuple(x.shape), tuple(y.shape)))
        first.setdefault(name, x.detach().clone())

    return hook


modules = {
    "text_encoder": pipe.text_encoder,
    "unet": pipe.unet,
    "vae.decoder": pipe.vae.decoder,
}
for name, module in modules.items():
    module.register_forward_hook(record(name), with_kwargs=True)
pipe.vae.post_quant_conv.register_forward_pre_hook(  # z = latents / scale
    lambda module, args: first.setdefault("z", args[0].clone())
)
# --8<-- [end:hooks]

# --8<-- [start:run]
prompts = ["a photo of a rocket", "a photo of a brick wall"]
per_prompt, steps = 2, 6
images = pipe(
    prompts,
    num_images_per_prompt=per_prompt,
    height=128,
    width=192,
    num_inference_steps=steps,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="pt",
).images  # (B, 3, H, W) in [0, 1]
print(f"{'module':<13}{'calls':>5}  {'input':<17}{'output':<17}")
for name in modules:
    mine = [(i, o) for n, i, o in calls if n == name]
    for shape_in, shape_out in sorted(set(mine)):
        print(f"{name:<13}{len(mine):>5}  {shape_in!s:<17}{shape_out!s:<17}")
print(f"{'images':<13}{'':>5}  {'':<17}{tuple(images.shape)!s:<17}")
# --8<-- [end:run]

unet_shapes = {(i, o) for n, i, o in calls if n == "unet"}
assert all(i == o for i, o in unet_shapes)  # the loop never reshapes
((unet_in, _),) = unet_shapes
batch = len(prompts) * per_prompt
assert unet_in == (2 * batch, 4, 16, 24)
assert [n for n, *_ in calls].count("unet") == steps
assert tuple(images.shape) == (batch, 3, 128, 192)
glue("prompts", len(prompts))
glue("per_prompt", per_prompt)
glue("batch", batch)
glue("unet_batch", unet_in[0])
glue("steps", steps)
glue("unet_shape", str(unet_in))
glue("text_calls", [n for n, *_ in calls].count("text_encoder"))

# --8<-- [start:figure]
noise = first["unet"][0]  # (4, 16, 24): image 0's starting latent
final = first["z"][0]  # (4, 16, 24): after the loop, unscaled


def tile(latent):  # channels in a 2 x 2 grid, each scaled to [0, 1]
    lo = latent.amin(dim=(1, 2), keepdim=True)
    hi = latent.amax(dim=(1, 2), keepdim=True)
    c = (latent - lo) / (hi - lo)
    return torch.cat([torch.cat([c[0], c[1]], 1), torch.cat([c[2], c[3]], 1)])


fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
panels = [
    (tile(noise), f"starting noise {tuple(noise.shape)}"),
    (tile(final), f"after {steps} steps {tuple(final.shape)}"),
    (images[0].permute(1, 2, 0), f"decoded {tuple(images[0].shape)}"),
]
for ax, (picture, title) in zip(axes, panels, strict=True):
    ax.imshow(picture.numpy(), cmap="gray")
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
fig.tight_layout()
save_figure(
    fig,
    "latent_through_the_pipeline.png",
    alt=f"Three panels for the first image of '{prompts[0]}'. Its starting "
    f"noise {tuple(noise.shape)} and its latent after {steps} steps, the "
    f"same shape, each as {noise.shape[0]} grey channel maps in a 2 by 2 "
    f"grid; then the decoded {images.shape[2]} by {images.shape[3]} RGB "
    f"picture, {images.shape[2] // final.shape[1]} times the latent's "
    "height and width.",
)
# --8<-- [end:figure]
