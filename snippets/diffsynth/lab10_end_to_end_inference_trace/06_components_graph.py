"""Load creates modules: what the tiny pipeline holds before it runs, and
its component graph, drawn from a trace of one call."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from infralens import glue, save_figure
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, no network

# --8<-- [start:inventory]
weights = 0
for name, c in pipe.components.items():
    if c is None:  # listed as null in model_index.json
        print(f"{name:<17} None")
    elif isinstance(c, torch.nn.Module):
        params = list(c.parameters())
        n = sum(p.numel() for p in params)
        mib = sum(p.numel() * p.element_size() for p in params) / 2**20
        weights += mib
        print(
            f"{name:<17} {type(c).__name__:<21} {n:>9,} params "
            f"{mib:5.2f} MiB {params[0].dtype} {params[0].device}"
        )
    else:
        print(f"{name:<17} {type(c).__name__:<21} not an nn.Module")
print(f"{'image_processor':<17} {type(pipe.image_processor).__name__}")
print(f"weights resident before the first call: {weights:.2f} MiB")
# --8<-- [end:inventory]

# --8<-- [start:record]
STEPS = 10
seen = {}  # name -> [calls, first input shape, first output shape]
text_shape = []  # the condition the UNet was given


def note(name, x, y):
    y = y if isinstance(y, torch.Tensor) else y[0]  # an output object
    x = tuple(x.shape) if isinstance(x, torch.Tensor) else "-"
    entry = seen.setdefault(name, [0, x, tuple(y.shape)])
    entry[0] += 1


def hook(name):
    def after(module, args, kwargs, out):
        note(name, args[0] if args else kwargs["sample"], out)
        if "encoder_hidden_states" in kwargs:
            text_shape.append(tuple(kwargs["encoder_hidden_states"].shape))

    return after


def wrap(name, owner, attr):
    method = getattr(owner, attr)

    def call(*args, **kwargs):
        out = method(*args, **kwargs)
        note(name, args[0], out)
        return out

    setattr(owner, attr, call)


for name in ("text_encoder", "unet"):
    getattr(pipe, name).register_forward_hook(hook(name), with_kwargs=True)
for name in ("encoder", "post_quant_conv", "decoder"):
    module = getattr(pipe.vae, name)
    module.register_forward_hook(hook(name), with_kwargs=True)
wrap("prepare_latents", pipe, "prepare_latents")  # args[0]: batch size
wrap("scale_model_input", pipe.scheduler, "scale_model_input")
wrap("step", pipe.scheduler, "step")
image = pipe(
    "a photo of a brick wall",
    height=128,
    width=128,
    num_inference_steps=STEPS,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
).images[0]
for name, (calls, x, y) in seen.items():
    print(f"{name:<17} {calls:>2}x  {x} -> {y}")
print("unet condition:", text_shape[0])
print("vae.encoder:", seen.get("encoder", [0])[0], "calls")
# --8<-- [end:record]

# --8<-- [start:graph]
fig, ax = plt.subplots(figsize=(10, 4.8))
ax.set(xlim=(0, 12), ylim=(-0.3, 3.9))
ax.axis("off")
boxes = {  # name in the trace: (x, y, label)
    "tokenizer": (4.1, 3.4, "tokenizer"),
    "text_encoder": (7.1, 3.4, "text_encoder"),
    "prepare_latents": (1.1, 2.0, "prepare_latents"),
    "scale_model_input": (4.1, 2.0, "scale_model_input"),
    "unet": (7.1, 2.0, "unet"),
    "step": (10.4, 2.0, "scheduler.step"),
    "post_quant_conv": (10.4, 0.3, "vae.post_quant_conv"),
    "decoder": (7.1, 0.3, "vae.decoder"),
    "postprocess": (4.1, 0.3, "postprocess"),
    "image": (1.1, 0.3, "PIL image"),
}
drawn = {}
for i, (name, (x, y, label)) in enumerate(boxes.items()):
    if name in seen:  # a traced call: its count comes from the trace
        n = seen[name][0]
        label += f"\n{n} call" + "s" * (n > 1)
    style = dict(boxstyle="round,pad=0.45", fc=f"C{i}", alpha=0.3)
    drawn[name] = ax.text(x, y, label, ha="center", va="center", bbox=style)

SIDES = {"E": (1, 0.5), "W": (0, 0.5), "N": (0.5, 1), "S": (0.5, 0)}


def arrow(a, b, sides, text, at, bend=0.0):
    """An arrow from box a's side to box b's side, text at (x, y)."""
    props = dict(arrowstyle="-|>", color="0.3", shrinkA=3, shrinkB=3)
    props["connectionstyle"] = f"arc3,rad={bend}"
    ax.annotate(
        "",
        SIDES[sides[1]],
        SIDES[sides[0]],
        xycoords=drawn[b],
        textcoords=drawn[a],
        arrowprops=props,
    )
    ax.text(*at, text, ha="center", va="center", fontsize=8)


shape = {name: entry[1:] for name, entry in seen.items()}
scale = pipe.vae.config.scaling_factor
n_text = seen["text_encoder"][0]
arrow(
    "tokenizer",
    "text_encoder",
    "EW",
    f"ids {shape['text_encoder'][0]}\nx{n_text}",
    (5.6, 3.62),
)
arrow("text_encoder", "unet", "SN", f"{text_shape[0]}", (6.55, 2.72))
latent = shape["prepare_latents"][1]  # (1, 4, 16, 16)
copies = shape["scale_model_input"][0][0] // latent[0]
arrow(
    "prepare_latents",
    "scale_model_input",
    "EW",
    f"{latent}\ncat x{copies}",
    (2.6, 2.28),
)
arrow("scale_model_input", "unet", "EW", f"{shape['unet'][0]}", (5.93, 2.2))
arrow(
    "unet",
    "step",
    "EW",
    f"{shape['unet'][1]}\nguidance mix\n-> {shape['step'][0]}",
    (8.75, 2.4),
)
arrow(
    "step",
    "scale_model_input",
    "SS",
    f"next timestep ({len(pipe.scheduler.timesteps)} in all)",
    (7.25, 1.02),
    bend=-0.25,
)
arrow("step", "post_quant_conv", "SN", f"/ {scale}", (10.95, 1.15))
pixels = np.asarray(image)
arrow(
    "post_quant_conv",
    "decoder",
    "WE",
    f"{shape['post_quant_conv'][1]}",
    (8.6, 0.52),
)
arrow("decoder", "postprocess", "WE", f"{shape['decoder'][1]}", (5.6, 0.52))
arrow(
    "postprocess",
    "image",
    "WE",
    f"{pixels.shape}\n{pixels.dtype}",
    (2.6, 0.58),
)
ax.set_title("The tiny pipeline's components in one pipe(...) call")
loop = ", ".join(f"{n} x{seen[n][0]}" for n in ("scale_model_input", "unet"))
save_figure(
    fig,
    "component_graph.png",
    alt="Flow chart of one pipe(...) call, each arrow labelled with what "
    f"it carries. Top: tokenizer, ids {shape['text_encoder'][0]}, to "
    f"text_encoder x{n_text}, whose output goes down to the unet as "
    f"{text_shape[0]}. Middle, the loop: prepare_latents {latent}, stacked "
    f"x{copies}, to {loop} and scheduler.step x{seen['step'][0]}, which "
    "arrows back for the next timestep. Bottom, after the last step: "
    f"divided by {scale}, vae.post_quant_conv, vae.decoder "
    f"{shape['decoder'][1]}, postprocess and a PIL image {pixels.shape} "
    f"{pixels.dtype}.",
)
# --8<-- [end:graph]

assert seen["text_encoder"][0] == 2 and seen["decoder"][0] == 1
assert seen["prepare_latents"][0] == seen["post_quant_conv"][0] == 1
assert len(pipe.scheduler.timesteps) == STEPS
assert seen["unet"][0] == seen["step"][0] == STEPS
assert not isinstance(pipe.scheduler, torch.nn.Module)
assert "encoder" not in seen  # text-to-image never encodes an image
vae_mib = sum(p.numel() * p.element_size() for p in pipe.vae.parameters())
glue("vae_mib", f"{vae_mib / 2**20:.2f}")
glue("steps", STEPS)
glue("weights_mib", f"{weights:.2f}")
