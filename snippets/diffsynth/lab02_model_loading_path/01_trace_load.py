"""Trace DiffusionPipeline.from_pretrained on the tiny pipeline: which
component loads when, from which files, and how long each one takes."""

import os
import sys
import time

import matplotlib.pyplot as plt
import safetensors.torch
import transformers.modeling_utils
from diffusers.pipelines import pipeline_utils

from infralens import glue, save_figure
from infralens.tiny_pipeline import MODEL_DIR, load

ROOT = MODEL_DIR.parent.parent  # the repository


# --8<-- [start:trace]
loading = [None]  # the component being loaded right now
files = []  # (component, how, path)
spans = {}  # component: (start s, end s)


def note(how, path):
    path = os.path.realpath(path)  # vae/ is a link
    if path.startswith(str(ROOT)):
        files.append((loading[0], how, os.path.relpath(path, ROOT)))


def on_open(event, args):  # (1)!
    if event == "open" and str(args[0]).endswith((".json", ".txt")):
        note("read", str(args[0]))


def spy(module, name):  # (2)!
    original = getattr(module, name)

    def wrapper(path, *args, **kwargs):
        note("weights", str(path))
        return original(path, *args, **kwargs)

    setattr(module, name, wrapper)


spy(safetensors.torch, "load_file")  # diffusers' models
spy(transformers.modeling_utils, "safe_open")  # transformers' models
load_sub_model = pipeline_utils.load_sub_model


def traced(**kwargs):  # (3)!
    loading[0], start = kwargs["name"], time.perf_counter() - t0
    obj = load_sub_model(**kwargs)
    spans[kwargs["name"]] = (start, time.perf_counter() - t0)
    loading[0] = None
    return obj


pipeline_utils.load_sub_model = traced
sys.addaudithook(on_open)
t0 = time.perf_counter()
pipe = load()  # DiffusionPipeline.from_pretrained("models/tiny-sd")
total = time.perf_counter() - t0
# --8<-- [end:trace]

# --8<-- [start:table]
for how, path in sorted({(h, p) for c, h, p in files if c is None}):
    print(f"{'(pipeline)':<13}{how:<8}{path}")
for name, (start, end) in spans.items():
    mine = sorted({(h, p) for c, h, p in files if c == name})
    for i, (how, path) in enumerate(mine):
        took = f"{1000 * (end - start):6.0f} ms" if i == 0 else ""
        print(f"{name if i == 0 else '':<13}{how:<8}{path:<52}{took}")
print(f"from_pretrained in all: {1000 * total:.0f} ms")
# --8<-- [end:table]

# --8<-- [start:timeline]
fig, ax = plt.subplots(figsize=(8, 2.6))
for row, (start, end) in enumerate(spans.values()):
    ax.barh(row, 1000 * (end - start), left=1000 * start, color="#3949ab")
    ax.text(
        1000 * end + 5,
        row,
        f"{1000 * (end - start):.0f} ms",
        va="center",
        fontsize=8,
    )
ax.set_yticks(range(len(spans)), list(spans))
ax.invert_yaxis()
ax.set_xlim(0, 1000 * total * 1.15)
ax.set_xlabel("ms since from_pretrained was called (this build's run)")
fig.tight_layout()
bars = ", ".join(
    f"{n} {1000 * a:.0f} to {1000 * b:.0f} ms" for n, (a, b) in spans.items()
)
alt = f"Timeline, one bar per component in load order: {bars}."
save_figure(fig, "load_timeline.png", alt=alt)
# --8<-- [end:timeline]

order = list(spans)
weights = {c: p for c, h, p in files if h == "weights"}
assert set(order) == {"tokenizer", "text_encoder", "unet", "scheduler", "vae"}
assert weights["vae"] == "models/small-vae/diffusion_pytorch_model.safetensors"
assert weights["unet"].startswith("models/tiny-sd/unet/")
assert "scheduler" not in weights and "tokenizer" not in weights
glue("order", ", ".join(order))
glue("total_ms", f"{1000 * total:.0f}")
slowest = max(spans, key=lambda n: spans[n][1] - spans[n][0])
glue("slowest", slowest)
glue("slowest_ms", f"{1000 * (spans[slowest][1] - spans[slowest][0]):.0f}")
glue("n_weight_files", len(set(weights.values())))
