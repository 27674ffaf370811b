# %% [markdown]
# # Lab 08 starter: an offload plan as a residency schedule
#
# Run the tiny pipeline once under an offload mode and print, phase by
# phase, which component is held on the accelerator side, how many
# transfers the hooks made and how many bytes they moved. Every line runs;
# the outputs below come from the build of this site, on a machine
# without a GPU.

# %%
from infralens.offload import (
    Trace,
    apply_offload,
    components,
    generate,
    mib,
    nbytes,
)
from infralens.tiny_pipeline import MODEL_DIR, load

PIPELINE_SOURCE = MODEL_DIR  # (1)!
pipe = load(folder=PIPELINE_SOURCE)
sizes = {name: nbytes(m) for name, m in components(pipe).items()}
for name, size in sizes.items():
    print(f"{name:<13} {mib(size):>6} MiB")

# %%
OFFLOAD = "model"  # (2)!
resident = apply_offload(pipe, OFFLOAD)  # (3)!
print("held before the call:", resident or "nothing")

# %%
with Trace(pipe, resident=resident) as trace:  # (4)!
    image = generate(pipe, steps=4)  # (1, 64, 64, 3) in [0, 1]
print("phase   transfers     MiB  held on the accelerator")
for phase in trace.phases[1:]:
    count, moved = trace.moved(phase)  # (5)!
    held = [n for n, b in trace.phase_peak(phase).items() if b]
    held = ", ".join(held) or "nothing"
    print(f"{phase:<7} {count:>9} {mib(moved):>7}  {held}")

# %% [markdown]
# The plan's two numbers: the most bytes held at once, against holding
# every component, and the price paid for it in transfers.

# %%
count, moved = trace.moved()
total = sum(sizes.values())
print(f"peak {mib(trace.peak())} MiB of {mib(total)} MiB;", end="")
print(f" {count} transfers, {mib(moved)} MiB moved")
