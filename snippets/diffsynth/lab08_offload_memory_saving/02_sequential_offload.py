"""Sequential (layer by layer) offload on the tiny pipeline: diffusers'
``enable_sequential_cpu_offload`` on a CPU-only build, then the accelerate
function it calls for each component, observed during one real call."""

import torch
from accelerate import cpu_offload

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


reference = generate(pipe)

# --8<-- [start:refuse]
pipe.enable_sequential_cpu_offload(device="cpu")
print("execution device:", pipe._offload_device)  # (1)!
try:
    generate(pipe)
except TypeError as err:
    print("TypeError:", str(err).splitlines()[0])
w = torch.nn.Parameter(torch.ones(2))
for device in ("cpu", "cpu:0"):  # (2)!
    moved = w.to(device)
    print(f"Parameter.to({device!r}): {type(moved).__name__}, ", end="")
    print("same storage" if moved.data_ptr() == w.data_ptr() else "a copy")
# --8<-- [end:refuse]

pipe = load()
# --8<-- [start:run]
for model in components(pipe).values():  # diffusers' loop, device "cpu"
    offload_buffers = len(model._parameters) > 0
    cpu_offload(model, torch.device("cpu"), offload_buffers=offload_buffers)
print("UNet weight between calls:", pipe.unet.conv_in.weight.device)
with Trace(pipe) as trace:
    image = generate(pipe)
print("phase   loads  MiB loaded  most held")
for phase in trace.phases[1:-1]:
    count, moved = trace.moved(phase)
    held = max(trace.phase_peak(phase).values())
    print(f"{phase:<7} {count:>5} {mib(moved):>11} {mib(held):>10}")
print("same image as without offload:", (image == reference).all())
# --8<-- [end:run]

count, moved = trace.moved()
drops = [e for e in trace.events if e.action == "drop"]
print(f"{count} loads, {mib(moved)} MiB; {len(drops)} drops to meta")
print(f"peak on the accelerator: {mib(trace.peak())} MiB")

steps = [p for p in trace.phases if p.startswith("step")]
per_step = {trace.moved(p) for p in steps}
sizes = {n: trace.sizes[n] for n in trace.sizes}
assert (image == reference).all()
assert len(per_step) == 1  # every step loads the same layers
step_count, step_bytes = per_step.pop()
assert step_bytes == sizes["unet"]  # the whole UNet, every step
assert len(drops) == count  # every load is dropped again after use
# buffers are not offloaded: they stay on the execution device
te_buffers = sum(
    b.numel() * b.element_size() for b in pipe.text_encoder.buffers()
)
others = [m for n, m in components(pipe).items() if n != "text_encoder"]
assert not any(list(m.buffers()) for m in others)  # only the TE has any
assert not any(m._parameters for m in components(pipe).values())
text_loads = trace.moved("text")[1]
assert text_loads == 2 * (sizes["text_encoder"] - te_buffers)  # two prompts
decode_bytes = trace.moved("decode")[1]
vae = pipe.vae
assert decode_bytes == nbytes(vae.decoder) + nbytes(vae.post_quant_conv)
glue("seq_peak", mib(trace.peak()))
glue("seq_moved", mib(moved))
glue("seq_transfers", f"{count:,}")
glue("seq_step_loads", step_count)
glue("seq_step_mib", mib(step_bytes))
glue("seq_decode_mib", mib(trace.moved("decode")[1]))
glue("seq_text_mib", mib(text_loads))
glue("vae_decoder_share", f"{trace.moved('decode')[1] / sizes['vae']:.0%}")
glue("text_passes", text_loads // (sizes["text_encoder"] - te_buffers))
glue("te_buffer_bytes", te_buffers)
