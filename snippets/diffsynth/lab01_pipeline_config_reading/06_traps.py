"""The traps of reading a pipeline from its README: a config field the
model card never names, a prediction type that does not match the UNet,
and a one-line call that is not the call the card measured."""

import inspect
import json
import re

import numpy as np
import torch
from diffusers import DDIMScheduler

from infralens import glue, save_image
from infralens.tiny_pipeline import MODEL_DIR, load

pipe = load()
prompts = ["a photo of a brick wall", "a photo of a rocket"]
card = (MODEL_DIR / "README.md").read_text()
usage = re.search(r"```python\n(.*?)```", card, re.S).group(1)
card_steps = int(re.search(r"num_inference_steps=(\d+)", usage).group(1))
card_g = float(re.search(r"guidance_scale=([\d.]+)", usage).group(1))


def draw(
    scheduler, prompt=prompts, steps=card_steps, g=card_g, out="np", **kw
):
    """Seeded images, (N, 128, 128, 3) in [0, 1] for out="np"."""
    pipe.scheduler = scheduler
    gens = [torch.Generator().manual_seed(0) for _ in prompt]
    kw.update(num_inference_steps=steps, guidance_scale=g, output_type=out)
    return pipe(prompt, generator=gens, **kw).images


def psnr(a, b):
    return 10 * np.log10(1 / np.mean((a - b) ** 2))


folder = pipe.scheduler
base = draw(folder)  # (2, 128, 128, 3)

# --8<-- [start:unnamed]
config = MODEL_DIR / "scheduler/scheduler_config.json"
keys = list(json.loads(config.read_text()))
fields = [k for k in keys if k[0] != "_"]  # settings, not bookkeeping
print("scheduler fields in its usage code:", [k for k in fields if k in usage])
unnamed = [k for k in fields if k not in card]  # (1)!
print("fields the card never names:", unnamed)
# --8<-- [end:unnamed]

# --8<-- [start:thresholding]
s = folder.config
print("thresholding:", s.thresholding, "| max value:", s.sample_max_value)
changed = draw(DDIMScheduler.from_config(s, thresholding=True))  # (2)!
thr = [psnr(a, b) for a, b in zip(base, changed, strict=True)]
for prompt, db in zip(prompts, thr, strict=True):
    print(f"{prompt:<24} {db:5.1f} dB against the folder's config")
z = draw(folder, prompts[:1], out="latent")  # final latents (1, 4, 16, 16)
outside = (z.abs() > 1).float().mean().item()
print(f"final latents outside [-1, 1]: {100 * outside:.0f}%")
row = np.concatenate([*base, *changed], axis=1)  # off, off, on, on
save_image(
    row,
    "thresholding_off_then_on_brick_wall_and_rocket.png",
    alt="Four images: a brick wall and a rocket with the folder's scheduler, "
    "then the same two with thresholding on, "
    f"{thr[0]:.1f} and {thr[1]:.1f} dB from the first two.",
)
# --8<-- [end:thresholding]

# --8<-- [start:prediction]
eps = DDIMScheduler.from_config(folder.config, prediction_type="epsilon")
broken = []  # (step, t) of the first non-finite latents


def watch(pipe, i, t, tensors):
    if not broken and not torch.isfinite(tensors["latents"]).all():
        broken.append((i, int(t)))
    return {}


out = draw(eps, prompts[:1], callback_on_step_end=watch)
print(f"latents stop being finite at step {broken[0][0]} (t={broken[0][1]})")
print(f"NaN pixels in the image: {np.isnan(out).mean():.0%}")
print("alphas_cumprod at t=999:", float(eps.alphas_cumprod[999]))
# --8<-- [end:prediction]

# --8<-- [start:one_line]
defaults = inspect.signature(pipe.__call__).parameters  # the call's own
call_steps = defaults["num_inference_steps"].default
call_g = defaults["guidance_scale"].default
one_line = draw(folder, prompts[:1], steps=call_steps, g=call_g)
gap = psnr(base[0], one_line[0])
print(f"card's call: {card_steps} steps, guidance {card_g}")
print(f"pipe(prompt): {call_steps} steps, guidance {call_g}")
print(f"card's call vs one-line defaults: {gap:.1f} dB")
row = np.concatenate([base[0], one_line[0]], axis=1)
save_image(
    row,
    "card_call_then_one_line_call_brick_wall.png",
    alt=f"Two images of a brick wall: the card's call ({card_steps} steps, "
    f"guidance {card_g:g}) and the one-line call ({call_steps} steps, "
    f"guidance {call_g:g}), {gap:.1f} dB apart.",
)
# --8<-- [end:one_line]

assert "prediction_type" in card and "thresholding" in unnamed
assert set(keys) - set(fields) == {"_class_name", "_diffusers_version"}
assert call_steps > card_steps and call_g > card_g
assert not [k for k in fields if k in usage]
assert broken == [(0, 999)] and np.isnan(out).all()
assert max(thr) < 20
glue("n_unnamed", len(unnamed))
glue("n_fields", len(fields))
glue("n_keys", len(keys))
glue("thr_psnr", " and ".join(f"{db:.1f}" for db in thr))
glue("outside_pct", f"{100 * outside:.0f}")
glue("one_line_psnr", f"{gap:.1f}")
glue("card_steps", card_steps)
glue("card_g", f"{card_g:g}")
glue("call_steps", call_steps)
glue("call_g", f"{call_g:g}")
glue("call_ratio", f"{call_steps / card_steps:g}")
