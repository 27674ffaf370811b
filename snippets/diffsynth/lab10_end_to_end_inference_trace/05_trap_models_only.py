"""The trap: a trace of the models alone (text encoder and UNet) misses
the call's activation peak, which sits in the VAE decoder."""

import torch

from infralens import glue
from infralens.memory import PeakMemory
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, no network

# --8<-- [start:watch]
MODULES = {
    "text_encoder": pipe.text_encoder,
    "unet": pipe.unet,
    "vae.decoder": pipe.vae.decoder,
}
peaks = []  # (module name, peak MiB), one entry per call


def watch(name, module):
    running = []  # the counter of the call in progress

    def before(m, args):
        running.append(PeakMemory().__enter__())

    def after(m, args, out):
        counter = running.pop()
        counter.__exit__(None, None, None)
        peaks.append((name, counter.peak / 2**20))

    module.register_forward_pre_hook(before)
    module.register_forward_hook(after)


for name, module in MODULES.items():
    watch(name, module)
with PeakMemory() as whole:  # (1)!
    pipe(
        "a photo of a brick wall",
        height=128,
        width=128,
        num_inference_steps=2,
        guidance_scale=3.0,
        generator=torch.Generator().manual_seed(0),
    )
# --8<-- [end:watch]

# --8<-- [start:compare]
rows = {}
for label, names in (
    ("text_encoder + unet", ("text_encoder", "unet")),
    ("... + vae.decoder", tuple(MODULES)),
):
    rows[label] = max(p for n, p in peaks if n in names)
    print(f"{label:<21} largest peak seen {rows[label]:5.2f} MiB")
print(f"{'whole pipe(...) call':<21} peak {whole.peak / 2**20:5.2f} MiB")
# --8<-- [end:compare]

models_peak, full_peak = rows.values()
whole_mib = whole.peak / 2**20
unet_peaks = [p for n, p in peaks if n == "unet"]
assert len(unet_peaks) == 2 and len(set(unet_peaks)) == 1  # same each step
assert models_peak < full_peak <= whole_mib < 1.01 * full_peak
glue("models_peak", f"{models_peak:.2f}")
glue("decoder_peak", f"{full_peak:.2f}")
glue("whole_peak", f"{whole_mib:.2f}")
glue("peak_ratio", f"{whole_mib / models_peak:.1f}")
