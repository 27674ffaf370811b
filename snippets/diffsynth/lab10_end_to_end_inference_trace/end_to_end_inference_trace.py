# %% [markdown]
# # Lab 10 starter: trace one `pipe(...)` call end to end
#
# Hooks on the pipeline's modules and wrappers on its other steps record
# every component call of one text-to-image generation, in order: input
# and output shapes, dtype, device, time and activation memory. Every
# line runs; the outputs below come from the build of this site.

# %%
import time
from contextlib import nullcontext
from operator import attrgetter
from statistics import median

import numpy as np
import torch
from diffusers import DiffusionPipeline
from diffusers.utils import logging as diffusers_logging
from transformers.utils import logging as transformers_logging

from infralens import save_figure
from infralens.memory import PeakMemory
from infralens.tiny_pipeline import MODEL_DIR

diffusers_logging.disable_progress_bar()
transformers_logging.disable_progress_bar()
PIPE_SOURCE = MODEL_DIR  # (1)!
pipe = DiffusionPipeline.from_pretrained(PIPE_SOURCE)
pipe.set_progress_bar_config(disable=True)
loaded = [name for name, c in pipe.components.items() if c is not None]
print(type(pipe).__name__, "components:", ", ".join(loaded))

# %%
MODULES = ("text_encoder", "unet", "vae.post_quant_conv", "vae.decoder")
METHODS = (  # (2)!
    "scheduler.set_timesteps",
    "prepare_latents",
    "scheduler.scale_model_input",
    "scheduler.step",
    "image_processor.postprocess",
)
events = []  # one dict per finished call, in the order they finish
count_memory = False  # (3)!


def describe(x):
    """(shape, dtype, device) of the first tensor or image inside x."""
    if isinstance(x, torch.Tensor):
        return tuple(x.shape), str(x.dtype)[6:], x.device.type
    if hasattr(x, "getbands"):  # a PIL image: look at its pixels
        a = np.asarray(x)
        return a.shape, str(a.dtype), "PIL"
    if isinstance(x, dict):
        x = list(x.values())
    if hasattr(x, "to_tuple"):  # diffusers and transformers outputs
        x = x.to_tuple()
    if isinstance(x, (tuple, list)):
        return next(filter(None, map(describe, x)), None)
    return None


def record(name, inputs, output, start, stop, counter):
    events.append(
        dict(
            name=name,
            inp=describe(inputs),
            out=describe(output),
            start=start,
            ms=1e3 * (stop - start),
            mib=counter.peak / 2**20 if counter else None,  # (4)!
        )
    )


def hook_module(name, module):
    running = []  # (memory counter, start time) of the call in progress

    def before(module, args, kwargs):
        counter = PeakMemory().__enter__() if count_memory else None
        running.append((counter, time.perf_counter()))

    def after(module, args, kwargs, output):
        stop = time.perf_counter()
        counter, start = running.pop()
        if counter:
            counter.__exit__(None, None, None)
        record(name, (args, kwargs), output, start, stop, counter)

    module.register_forward_pre_hook(before, with_kwargs=True)
    module.register_forward_hook(after, with_kwargs=True)


def wrap_method(name, owner, attr):
    method = getattr(owner, attr)

    def traced(*args, **kwargs):
        counter = PeakMemory() if count_memory else None
        start = time.perf_counter()
        with counter or nullcontext():
            output = method(*args, **kwargs)
        stop = time.perf_counter()
        record(name, (args, kwargs), output, start, stop, counter)
        return output

    setattr(owner, attr, traced)  # (5)!


for name in MODULES:
    hook_module(name, attrgetter(name)(pipe))
for name in METHODS:
    owner, _, attr = name.rpartition(".")
    wrap_method(name, attrgetter(owner)(pipe) if owner else pipe, attr)
print(f"{len(MODULES)} modules hooked, {len(METHODS)} methods wrapped")

# %%
PROMPT, STEPS, GUIDANCE, SIZE = "a photo of a brick wall", 10, 3.0, 128


def traced_call(memory, steps=STEPS):
    global count_memory
    count_memory = memory
    events.clear()
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    pipe(
        PROMPT,
        height=SIZE,
        width=SIZE,
        num_inference_steps=steps,
        guidance_scale=GUIDANCE,
        generator=gen,
    )
    total = 1e3 * (time.perf_counter() - start)  # ms
    return [dict(e, start=1e3 * (e["start"] - start)) for e in events], total


traced_call(memory=False, steps=1)  # (6)!
trace, total_ms = traced_call(memory=False)
counted, _ = traced_call(memory=True, steps=2)  # (7)!
peak_of = {c["name"]: c["mib"] for c in counted}
assert all(c["mib"] == peak_of[c["name"]] for c in counted)
assert set(peak_of) == {e["name"] for e in trace}
for e in trace:
    e["mib"] = peak_of[e["name"]]

# %%
LOOP = ["scheduler.scale_model_input", "unet", "scheduler.step"]
a = next(i for i, e in enumerate(trace) if e["name"] in LOOP)
b = a + 3 * STEPS  # the loop: STEPS times the three LOOP calls
steps = [
    [(e["name"], e["inp"], e["out"]) for e in trace[k : k + 3]]
    for k in range(a, b, 3)
]
assert [name for name, _, _ in steps[0]] == LOOP
assert all(s == steps[0] for s in steps)  # (8)!


def dims(described):
    return str(described[0]).replace(" ", "") if described else "-"


def row(i, e):
    _, dtype, device = e["out"] or e["inp"] or ("-", "-", "-")
    return (
        f"{i:>2} {e['name']:<27} {dims(e['inp']):<13} "
        f"{dims(e['out']):<13} {dtype:<7} {device:<3} "
        f"{e['ms']:>6.2f} {e['mib']:>5.2f}"
    )


print(
    f" # {'call':<27} {'input':<13} {'output':<13} dtype   dev "
    f"{'ms':>6} {'MiB':>5}"
)
for i, e in enumerate(trace):
    if i == a + 3:
        print(
            f"   steps 2-{STEPS - 1}: {3 * (STEPS - 2)} calls, "
            "the same three calls and shapes as step 1"
        )
    if not a + 3 <= i < b - 3:
        print(row(i + 1, e))

# %%
ms_of = {}  # component -> the milliseconds of its calls
for e in trace:
    ms_of.setdefault(e["name"], []).append(e["ms"])
typical = {n: len(ms) * median(ms) for n, ms in ms_of.items()}  # (9)!
print(
    f"{'component':<28}{'calls':>5}{'min ms':>8}{'median':>8}{'max':>8}"
    f"{'share':>7}{'peak MiB':>9}"
)
for name, ms in ms_of.items():
    share = typical[name] / sum(typical.values())
    print(
        f"{name:<28}{len(ms):>5}{min(ms):>8.1f}{median(ms):>8.1f}"
        f"{max(ms):>8.1f}{share:>7.1%}{peak_of[name]:>9.2f}"
    )
untraced = total_ms - sum(e["ms"] for e in trace)  # (10)!
print(
    f"pipe(...) took {total_ms:.0f} ms, {untraced:.0f} ms of it "
    f"({untraced / total_ms:.1%}) outside the traced calls"
)
plain = min(ms_of["unet"])
slow = min(c["ms"] for c in counted if c["name"] == "unet")
print(f"fastest UNet call {plain:.1f} ms; {slow:.1f} ms while counting memory")


# %%
import matplotlib.pyplot as plt  # noqa: E402

rows = list(dict.fromkeys(e["name"] for e in trace))
fig, (ax, mem) = plt.subplots(
    2, 1, figsize=(9, 4.6), sharex=True, height_ratios=(3, 1)
)
for e in trace:
    y = rows.index(e["name"])
    width = max(e["ms"], total_ms / 400)  # (11)!
    ax.barh(
        y, width, left=e["start"], height=0.6, color=f"C{y}", ec="w", lw=0.3
    )
    mem.vlines(e["start"], 0, e["mib"], color=f"C{y}", lw=2)
ax.set_yticks(range(len(rows)), rows)
ax.invert_yaxis()
ax.set_title(f"One pipe(...) call, {STEPS} steps, guidance {GUIDANCE}")
mem.set_ylabel("peak MiB")
mem.set_xlabel("milliseconds since the call started")
fig.tight_layout()
top = max(trace, key=lambda e: e["mib"])
longest = sorted(typical, key=typical.get, reverse=True)[:2]
spans = "; ".join(
    f"{n} {len(ms_of[n])}x, {typical[n] / sum(typical.values()):.0%}"
    for n in longest
)
save_figure(
    fig,
    "trace_timeline.png",
    alt=f"Timeline of the {len(trace)} traced calls of one pipe(...) "
    f"call, {total_ms:.0f} ms in all: one row per component, "
    f"{', '.join(rows)}, each call a bar from its start as long as it "
    f"took. The longest rows, calls and share of the time: {spans}. "
    "Below, a spike at each call's start as high as its peak activation "
    f"memory; the highest is {top['name']}, {top['mib']:.2f} MiB.",
)

# %% [markdown]
# Checks: the claims the lab page makes about this trace. Change a knob
# above and some of them stop holding; that is the point of the knob.

# %%
from infralens import glue  # noqa: E402

per = {n: [e for e in trace if e["name"] == n] for n in rows}
share = {n: t / sum(typical.values()) for n, t in typical.items()}
assert trace[0]["name"] == "text_encoder"
assert trace[-1]["name"] == "image_processor.postprocess"
assert len(per["text_encoder"]) == 2 and len(per["vae.decoder"]) == 1
latent = (2, 4, SIZE // 8, SIZE // 8)  # guided batch of two
assert [e["inp"][0] for e in per["unet"]] == [latent] * STEPS
peak = max(trace, key=lambda e: e["mib"])
assert peak["name"] == "vae.decoder"
assert median(ms_of["unet"]) < median(ms_of["vae.decoder"])  # per call
sched = sum(v for n, v in share.items() if n.startswith("scheduler."))
glue("steps", STEPS)
glue("guidance", GUIDANCE)
glue("calls", len(trace))
glue("total_ms", f"{total_ms:.0f}")
glue("unet_min", f"{min(ms_of['unet']):.0f}")
glue("unet_median", f"{median(ms_of['unet']):.0f}")
glue("unet_max", f"{max(ms_of['unet']):.0f}")
glue("unet_share", f"{100 * share['unet']:.0f}")
glue("decoder_share", f"{100 * share['vae.decoder']:.0f}")
glue("text_share", f"{100 * share['text_encoder']:.1f}")
glue("sched_share", f"{100 * sched:.2f}")
glue("models_share", f"{100 * (share['unet'] + share['text_encoder']):.0f}")
glue("slowdown", f"{slow / plain:.1f}")
glue("between_share", f"{100 * untraced / total_ms:.1f}")
glue("decoder_peak", f"{peak['mib']:.2f}")
glue("unet_peak", f"{max(e['mib'] for e in per['unet']):.2f}")
