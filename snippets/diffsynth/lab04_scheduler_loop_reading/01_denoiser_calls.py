"""Denoiser calls per step, counted by a forward hook on the UNet: with
and without classifier-free guidance, and for schedulers of different
order."""

import warnings

import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
)

from infralens import glue
from infralens.tiny_pipeline import load

warnings.filterwarnings(  # diffusers' np.array(tensor) under numpy 2
    "ignore", "__array__ implementation doesn't accept a copy"
)
torch.set_num_threads(1)  # one thread: steadier on a shared CPU
pipe = load()
config = pipe.scheduler.config  # the model's training schedule

# --8<-- [start:hook]
batches = []  # the batch size of every UNet call


def record(module, args, kwargs, output):
    x = args[0] if args else kwargs["sample"]
    batches.append(x.shape[0])  # x: (B, 4, 16, 16)


pipe.unet.register_forward_hook(record, with_kwargs=True)


def count(steps, g):
    batches.clear()
    pipe(
        "a photo of a brick wall",
        num_inference_steps=steps,
        guidance_scale=g,
        generator=torch.Generator().manual_seed(0),
        output_type="latent",  # skip the decode: only the loop counts
    )
    return len(batches), sorted(set(batches))


# --8<-- [end:hook]

# --8<-- [start:guidance]
print("steps  guidance  UNet calls  batch")
rows = {}
for steps in (4, 8):
    for g in (1.0, 3.0):
        rows[steps, g] = count(steps, g)
        n, batch = rows[steps, g]
        print(f"{steps:>5}  {g:>8}  {n:>10}  {batch}")
# --8<-- [end:guidance]

# --8<-- [start:order]
schedulers = {
    "DDIM": DDIMScheduler,
    "Euler": EulerDiscreteScheduler,
    "DPM-Solver++ 2M": DPMSolverMultistepScheduler,
    "Heun": HeunDiscreteScheduler,
}
print("scheduler        steps asked  len(timesteps)  UNet calls")
calls = {}
for name, cls in schedulers.items():
    pipe.scheduler = cls.from_config(config)  # same betas, same v target
    calls[name] = count(4, 3.0)[0]
    n_t = len(pipe.scheduler.timesteps)  # set inside pipe(...)
    print(f"{name:<16} {4:>11}  {n_t:>14}  {calls[name]:>10}")
# --8<-- [end:order]

assert rows[4, 1.0] == (4, [1]) and rows[4, 3.0] == (4, [2])
assert rows[8, 1.0] == (8, [1]) and rows[8, 3.0] == (8, [2])
assert calls["DDIM"] == calls["Euler"] == calls["DPM-Solver++ 2M"] == 4
assert calls["Heun"] == 2 * 4 - 1
dpm = DPMSolverMultistepScheduler.from_config(config).config
assert (dpm.algorithm_type, dpm.solver_order) == ("dpmsolver++", 2)
glue("heun_calls", calls["Heun"])
glue("heun_steps", 4)
