"""The two traps, run: offload is paid for in transfers that grow with
the number of steps, and offloading the module that runs at every step
(the UNet) costs the most."""

from infralens import glue
from infralens.offload import Trace, apply_offload, generate, mib
from infralens.tiny_pipeline import load


def traced(mode, steps, keep=()):
    pipe = load()
    resident = apply_offload(pipe, mode, keep=keep)
    with Trace(pipe, resident=resident) as trace:
        generate(pipe, steps=steps)
    return trace


# --8<-- [start:not_free]
print("mode        steps  transfers  MiB moved  in the loop")
runs = {}
for mode in ("model", "sequential"):
    for steps in (4, 8):
        trace = runs[mode, steps] = traced(mode, steps)
        count, moved = trace.moved()
        loop = sum(
            trace.moved(p)[0] for p in trace.phases if p.startswith("step")
        )
        print(f"{mode:<11} {steps:>5} {count:>10,} {mib(moved):>10}", end="")
        print(f" {loop:>12,}")
# --8<-- [end:not_free]

# --8<-- [start:keep_unet]
print("sequential offload   peak MiB  transfers  MiB moved")
kept = traced("sequential", 4, keep=("unet",))
for label, trace in (
    ("everything", runs["sequential", 4]),
    ("all but the UNet", kept),
):
    count, moved = trace.moved()
    print(f"{label:<20} {mib(trace.peak()):>8} {count:>10,}", end="")
    print(f" {mib(moved):>10}")
# --8<-- [end:keep_unet]

m4, m8 = runs["model", 4], runs["model", 8]
s4, s8 = runs["sequential", 4], runs["sequential", 8]
unet = s4.sizes["unet"]
assert m4.moved() == m8.moved()  # model offload: independent of steps
assert s8.moved()[1] - s4.moved()[1] == 4 * unet  # four more UNet loads
saved = s4.moved()[1] - kept.moved()[1]
assert saved == 4 * unet
assert kept.peak() > unet and kept.peak() < m4.peak()
glue("seq_per_step", mib(unet))
glue("steps_a", 4)
glue("steps_b", 8)
glue("seq4_moved", mib(s4.moved()[1]))
glue("seq8_moved", mib(s8.moved()[1]))
glue("seq4_count", f"{s4.moved()[0]:,}")
glue("seq8_count", f"{s8.moved()[0]:,}")
glue("model_count", m4.moved()[0])
glue("kept_moved", mib(kept.moved()[1]))
glue("kept_count", f"{kept.moved()[0]:,}")
glue("kept_peak", mib(kept.peak()))
glue("unet_share_moved", f"{saved / s4.moved()[1]:.0%}")
