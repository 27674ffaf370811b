"""The trap: a trace of the models alone (text encoder and UNet) misses
the VAE decoder's share of the time and the call's activation peak."""

import time
from contextlib import nullcontext

import torch

from infralens import glue
from infralens.memory import PeakMemory
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, no network
PROMPT = "a photo of a brick wall"


def generate(steps):
    return pipe(
        PROMPT,
        height=128,
        width=128,
        num_inference_steps=steps,
        guidance_scale=3.0,
        generator=torch.Generator().manual_seed(0),
    )


# --8<-- [start:watch]
MODULES = {
    "text_encoder": pipe.text_encoder,
    "unet": pipe.unet,
    "vae.decoder": pipe.vae.decoder,
}
log = []  # (module name, seconds or peak MiB), one entry per call


def watch(name, module, memory):
    running = []

    def before(m, args):
        running.append(
            PeakMemory().__enter__() if memory else time.perf_counter()
        )

    def after(m, args, out):
        begun = running.pop()
        if memory:
            begun.__exit__(None, None, None)
            log.append((name, begun.peak / 2**20))
        else:
            log.append((name, time.perf_counter() - begun))

    return [
        module.register_forward_pre_hook(before),
        module.register_forward_hook(after),
    ]


def traced(memory, steps):
    """One generation with every module in MODULES watched."""
    log.clear()
    handles = [h for n, m in MODULES.items() for h in watch(n, m, memory)]
    counter = PeakMemory() if memory else nullcontext()
    start = time.perf_counter()
    with counter:
        generate(steps)
    total = time.perf_counter() - start
    for h in handles:
        h.remove()
    return list(log), total, counter.peak / 2**20 if memory else None


# --8<-- [end:watch]


# --8<-- [start:compare]
generate(steps=1)  # warm-up
times, total, _ = traced(memory=False, steps=10)
peaks, _, whole = traced(memory=True, steps=2)  # (1)!
rows = {}
for label, names in (
    ("text_encoder + unet", ("text_encoder", "unet")),
    ("... + vae.decoder", tuple(MODULES)),
):
    seconds = sum(s for n, s in times if n in names)
    peak = max(p for n, p in peaks if n in names)
    rows[label] = (seconds / total, peak)
    print(
        f"{label:<20} {seconds / total:6.1%} of the time, "
        f"largest peak {peak:5.2f} MiB"
    )
print(
    f"{'whole pipe(...) call':<20} {1:6.1%} of the time, peak {whole:5.2f} MiB"
)
# --8<-- [end:compare]

(models_share, models_peak), (full_share, full_peak) = rows.values()
unet_peaks = [p for n, p in peaks if n == "unet"]
assert len(set(unet_peaks)) == 1  # every step allocates the same
assert models_peak < full_peak == max(p for _, p in peaks) <= whole
glue("models_share", f"{100 * models_share:.0f}")
glue("full_share", f"{100 * full_share:.0f}")
glue("models_peak", f"{models_peak:.2f}")
glue("decoder_peak", f"{full_peak:.2f}")
glue("whole_peak", f"{whole:.2f}")
glue("peak_ratio", f"{full_peak / models_peak:.0f}")
