"""The profiler's view of the same call: which operations ran inside each
component, and which ran in the pipeline's own code between them."""

import os
from collections import Counter

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, no network
PROMPT = "a photo of a brick wall"

# --8<-- [start:ranges]
MODULES = {
    "text_encoder": pipe.text_encoder,
    "unet": pipe.unet,
    "vae.decoder": pipe.vae.decoder,
}
open_ranges = []


def enter(name):
    return lambda module, args: open_ranges.append(
        record_function(name).__enter__()  # (1)!
    )


def leave(module, args, output):
    open_ranges.pop().__exit__(None, None, None)


for name, module in MODULES.items():
    module.register_forward_pre_hook(enter(name))
    module.register_forward_hook(leave)


def ranged(name, method):
    def call(*args, **kwargs):
        with record_function(name):
            return method(*args, **kwargs)

    return call


sched = pipe.scheduler
sched.scale_model_input = ranged(
    "scheduler.scale_model_input", sched.scale_model_input
)
sched.step = ranged("scheduler.step", sched.step)
pipe.image_processor.postprocess = ranged(
    "postprocess", pipe.image_processor.postprocess
)
# --8<-- [end:ranges]

# --8<-- [start:profile]
os.environ["KINETO_LOG_LEVEL"] = "6"  # no start/stop log lines on stderr
with profile(activities=[ProfilerActivity.CPU]) as prof:
    with record_function("pipe(...)"):
        pipe(
            PROMPT,
            height=128,
            width=128,
            num_inference_steps=4,
            guidance_scale=3.0,
            generator=torch.Generator().manual_seed(0),
        )
events = prof.events()
ranges = {e.name for e in events if e.is_user_annotation}
ops = Counter()  # (range, op) -> operations called directly in it
for e in events:
    parent = e.cpu_parent
    if e.name.startswith("aten::") and parent and parent.name in ranges:
        ops[parent.name, e.name] += 1
calls = Counter(e.name for e in events if e.name in ranges)
print(f"{'range':<28}{'calls':>5}{'ops':>6}  most called op")
per_range = {
    r: {op: n for (q, op), n in ops.items() if q == r} for r in ranges
}
for name in sorted(ranges, key=lambda r: (-sum(per_range[r].values()), r)):
    mine = per_range[name]
    top = max(mine, key=mine.get) if mine else "-"
    total = sum(mine.values())
    print(f"{name:<28}{calls[name]:>5}{total:>6}  {top}")
# --8<-- [end:profile]

# --8<-- [start:between]
between = {op: n for (r, op), n in ops.items() if r == "pipe(...)"}
print("operations pipe(...) ran outside every component:")
for op, n in sorted(between.items(), key=lambda kv: (-kv[1], kv[0])):
    print(f"  {op:<24}{n:>3}")
# --8<-- [end:between]

glue("between_ops", sum(between.values()))
step_ops = sum(n for (r, _), n in ops.items() if r == "scheduler.step")
glue("step_ops", step_ops // calls["scheduler.step"])
for name, label in (("unet", "unet_ops"), ("vae.decoder", "decoder_ops")):
    n = sum(k for (r, _), k in ops.items() if r == name)
    glue(label, n // calls[name])
