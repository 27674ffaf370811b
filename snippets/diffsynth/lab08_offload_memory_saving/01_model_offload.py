"""Model offload on the tiny pipeline: diffusers' own
``enable_model_cpu_offload`` and accelerate's hooks, observed during one
real call. The calls are the hooks' own; the bytes on the accelerator side
are the project's account of them (``infralens.offload``)."""

import torch

from infralens import glue
from infralens.offload import Trace, components, mib, nbytes
from infralens.tiny_pipeline import load

pipe = load()
prompt = "a photo of a brick wall"


def generate(pipe):
    return pipe(
        prompt,
        num_inference_steps=4,
        height=64,
        width=64,
        generator=torch.Generator().manual_seed(0),
        output_type="np",
    ).images


# --8<-- [start:sizes]
print("offload order:", pipe.model_cpu_offload_seq)
sizes = {name: nbytes(m) for name, m in components(pipe).items()}
for name, size in sizes.items():
    print(f"{name:<13} {size:>11,} bytes  {mib(size):>6} MiB")
print(f"{'all':<13} {sum(sizes.values()):>11,} bytes")
# --8<-- [end:sizes]

reference = generate(pipe)  # no offload: the image to compare with

# --8<-- [start:refuse]
try:
    pipe.enable_model_cpu_offload()  # (1)!
except RuntimeError as err:
    print("RuntimeError:", err)
pipe.enable_model_cpu_offload(device="cpu")  # (2)!
print("execution device:", pipe._offload_device)
# --8<-- [end:refuse]

# --8<-- [start:calls]
with Trace(pipe) as trace:  # (1)!
    image = generate(pipe)
for call in trace.calls:  # every hook call and .to() on a component
    print(f"{call.phase:<7} {call.component:<13} {call.what:<24}", end="")
    print(f" by {call.via}")
print("same image as without offload:", (image == reference).all())
# --8<-- [end:calls]

# --8<-- [start:account]
for e in trace.events:  # the accelerator side, by the hooks' branches
    print(f"{e.phase:<7} {e.action:<8} {e.component:<13} {mib(e.nbytes)} MiB")
count, moved = trace.moved()
print(f"{count} transfers, {mib(moved)} MiB moved")
print(f"peak on the accelerator: {mib(trace.peak())} MiB", end="")
print(f" of {mib(sum(sizes.values()))} MiB")
# --8<-- [end:account]

tos = [c for c in trace.calls if c.what.startswith(".to('cpu:0')")]
unet_tos = [c for c in tos if c.component == "unet"]
assert (image == reference).all()
assert len(unet_tos) == 4  # the CPU build moves the UNet every step ...
unet_loads = [
    e for e in trace.events if e.component == "unet" and e.action == "load"
]
assert len(unet_loads) == 1  # ... an accelerator once
assert trace.peak() == max(sizes.values())
glue("sizes", {k: mib(v) for k, v in sizes.items()})
glue("te_mib", mib(sizes["text_encoder"]))
glue("unet_mib", mib(sizes["unet"]))
glue("vae_mib", mib(sizes["vae"]))
glue("vae_encoder_share", f"{nbytes(pipe.vae.encoder) / sizes['vae']:.0%}")
glue("all_mib", mib(sum(sizes.values())))
glue("model_peak", mib(trace.peak()))
glue("model_moved", mib(moved))
glue("model_transfers", count)
glue("unet_tos", len(unet_tos))
glue("n_calls", len(trace.calls))
pre = [c for c in trace.calls if c.what == "CpuOffload.pre_forward"]
glue("n_pre", len(pre))
text_pre = [c for c in pre if c.component == "text_encoder"]
steps = len([p for p in trace.phases if p.startswith("step")])
glue("text_pre", len(text_pre))
glue("steps", steps)
