"""What a one-line pipe(prompt) call fills in: the signature's defaults,
then what the call actually resolved them to, recorded while it ran."""

import inspect

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd through DiffusionPipeline.from_pretrained

# --8<-- [start:components]
print("type(pipe):", type(pipe).__name__)
for name, obj in pipe.components.items():
    print(f"  {name:<18}{type(obj).__name__ if obj is not None else None}")
print("requires_safety_checker:", pipe.config.requires_safety_checker)
# --8<-- [end:components]

# --8<-- [start:signature]
params = inspect.signature(pipe.__call__).parameters
for name in (
    "height",
    "width",
    "num_inference_steps",
    "guidance_scale",
    "negative_prompt",
    "eta",
    "generator",
    "guidance_rescale",
    "output_type",
):
    print(f"{name:<20}{params[name].default!r}")
# --8<-- [end:signature]

# --8<-- [start:call]
unet_inputs, step_counts = [], []
pipe.unet.register_forward_pre_hook(  # (1)!
    lambda module, args: unet_inputs.append(tuple(args[0].shape))
)
set_timesteps = pipe.scheduler.set_timesteps


def record_steps(num_inference_steps, *args, **kwargs):
    step_counts.append(num_inference_steps)
    return set_timesteps(num_inference_steps, *args, **kwargs)


pipe.scheduler.set_timesteps = record_steps  # (2)!

image = pipe("a photo of a brick wall").images[0]  # the one-line call

timesteps = pipe.scheduler.timesteps
print("image size:", image.size)
print("latents into the unet:", unet_inputs[0], "(batch 2: CFG)")
print("steps:", step_counts[0], "| unet calls:", len(unet_inputs))
print("timesteps:", [int(t) for t in timesteps[:3]], "...", int(timesteps[-1]))
print(
    "guidance:",
    pipe.guidance_scale,
    "| time_cond_proj_dim:",
    pipe.unet.config.time_cond_proj_dim,
    "| CFG on:",
    pipe.do_classifier_free_guidance,
)
# --8<-- [end:call]

# --8<-- [start:scheduler]
s = pipe.scheduler.config
for key in (
    "prediction_type",
    "timestep_spacing",
    "rescale_betas_zero_snr",
    "steps_offset",
    "set_alpha_to_one",
    "clip_sample",
):
    print(f"{key:<24}{s[key]!r}")
print(f"alphas_cumprod[-1]      {float(pipe.scheduler.alphas_cumprod[-1])}")
# --8<-- [end:scheduler]

assert pipe.safety_checker is None and pipe.feature_extractor is None
assert image.size == (128, 128)
assert unet_inputs[0] == (2, 4, 16, 16) and len(unet_inputs) == 50
assert step_counts == [50]
assert pipe.unet.config.time_cond_proj_dim is None
glue("default_steps", step_counts[0])
glue("unet_calls", len(unet_inputs))
glue("default_guidance", pipe.guidance_scale)
glue("image_size", f"{image.size[0]}x{image.size[1]}")
glue("first_t", int(timesteps[0]))
glue("last_t", int(timesteps[-1]))
glue("latent_in", " x ".join(map(str, unet_inputs[0])))
