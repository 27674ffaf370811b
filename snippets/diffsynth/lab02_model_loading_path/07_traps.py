"""What breaks when components disagree on dtype or device, what the
pipeline's own dtype and device report meanwhile, and which modules a
call actually uses while all of them stay resident."""

import traceback

import torch
from diffusers import DiffusionPipeline

from infralens import glue
from infralens.tiny_pipeline import MODEL_DIR, load


def call(pipe):
    return pipe(
        "a photo of a brick wall",
        num_inference_steps=4,
        guidance_scale=3.0,
        generator=torch.manual_seed(0),
    )


def attempt(pipe):
    """Run the call; on a RuntimeError, say where in diffusers it rose."""
    try:
        call(pipe)
        return "ran"
    except RuntimeError as error:
        frames = traceback.extract_tb(error.__traceback__)
        last = [f for f in frames if "/diffusers/" in f.filename][-1]
        where = last.filename.split("site-packages/")[-1]
        return f"RuntimeError: {error}\n  raised under {where}:{last.name}"


# --8<-- [start:dtype]
mixed = DiffusionPipeline.from_pretrained(
    MODEL_DIR, dtype={"unet": torch.bfloat16, "default": torch.float32}
)
mixed.set_progress_bar_config(disable=True)
print("unet:", mixed.unet.dtype, "| text_encoder:", mixed.text_encoder.dtype)
print("pipe.dtype says:", mixed.dtype)
print(attempt(mixed))
# --8<-- [end:dtype]

# --8<-- [start:device]
pipe = load()
pipe.vae.to("meta")  # (1)!
print("vae:", pipe.vae.device, "| unet:", pipe.unet.device)
print("pipe.device says:", pipe.device)
steps_done = []
pipe.unet.register_forward_pre_hook(lambda m, a: steps_done.append(1))
print(attempt(pipe))
print("unet calls before the error:", len(steps_done))
# --8<-- [end:device]

# --8<-- [start:resident]
pipe = load()
modules = {
    "text_encoder": pipe.text_encoder,
    "unet": pipe.unet,
    "vae.decoder": pipe.vae.decoder,
}
calls = dict.fromkeys(modules, 0)
for name, module in modules.items():
    module.register_forward_pre_hook(  # (2)!
        lambda m, args, name=name: calls.__setitem__(name, calls[name] + 1)
    )
call(pipe)
for name, module in modules.items():
    mb = sum(p.numel() * p.element_size() for p in module.parameters()) / 1e6
    print(f"{name:<13}{calls[name]:>2} calls  {mb:6.2f} MB resident all along")
# --8<-- [end:resident]

assert attempt(mixed).startswith("RuntimeError")
assert mixed.dtype == torch.float32 and mixed.unet.dtype == torch.bfloat16
assert pipe.unet.device.type == "cpu"
assert calls["unet"] == 4 and calls["text_encoder"] == 2
assert len(steps_done) == calls["unet"]
glue("unet_calls", calls["unet"])
glue("te_calls", calls["text_encoder"])
