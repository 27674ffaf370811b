"""What breaks when components disagree on dtype or device, what the
pipeline's own dtype and device report meanwhile, and which modules a
call actually uses while all of them stay resident."""

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
    try:
        call(pipe)
        return "ran"
    except RuntimeError as error:
        return f"RuntimeError: {str(error).splitlines()[0]}"


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
print(attempt(pipe))
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
glue("unet_calls", calls["unet"])
glue("te_calls", calls["text_encoder"])
