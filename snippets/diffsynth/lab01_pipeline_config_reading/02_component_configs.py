"""Each component's own config file, the numbers in them that must agree
for the pipeline to run, and the component graph they describe."""

import json

import matplotlib.pyplot as plt

from infralens import glue, save_figure
from infralens.tiny_pipeline import MODEL_DIR

# --8<-- [start:read]
FILES = {
    "tokenizer": "tokenizer/tokenizer_config.json",
    "text_encoder": "text_encoder/config.json",
    "unet": "unet/config.json",
    "scheduler": "scheduler/scheduler_config.json",
    "vae": "vae/config.json",
}
cfg = {n: json.loads((MODEL_DIR / f).read_text()) for n, f in FILES.items()}
for name, c in cfg.items():
    kind = c.get("_class_name") or c.get("tokenizer_class")
    kind = kind or c["architectures"][0]
    print(f"{FILES[name]:<34}{len(c):>3} fields  {kind}")
vocab = json.loads((MODEL_DIR / "tokenizer/vocab.json").read_text())
print("tokenizer/vocab.json", f"{len(vocab):>17} tokens")
# --8<-- [end:read]

# --8<-- [start:wiring]
tok, te, unet, sched, vae = (cfg[n] for n in FILES)
factor = 2 ** (len(vae["block_out_channels"]) - 1)  # (1)!
pairs = [
    ("vocab.json entries", len(vocab), "text_encoder.vocab_size"),
    (
        "tokenizer.model_max_length",
        tok["model_max_length"],
        "text_encoder.max_position_embeddings",
    ),
    (
        "text_encoder.hidden_size",
        te["hidden_size"],
        "unet.cross_attention_dim",
    ),
    ("vae.latent_channels", vae["latent_channels"], "unet.in_channels"),
    ("unet.out_channels", unet["out_channels"], "vae.latent_channels"),
]
for left, value, right in pairs:
    part, field = right.split(".")
    other = {"text_encoder": te, "unet": unet, "vae": vae}[part][field]
    mark = "==" if value == other else "!="
    print(f"{left:<27}{value:>4} {mark} {other:<4}{right}")
size = unet["sample_size"] * factor  # (2)!
print(
    f"default image: unet.sample_size {unet['sample_size']} x {factor}"
    f" = {size} px"
)
# --8<-- [end:wiring]

# --8<-- [start:graph]
W, H = 0.18, 0.22  # box size in axes units
boxes = {  # name: (centre x, centre y)
    "tokenizer": (0.1, 0.72),
    "text_encoder": (0.36, 0.72),
    "unet": (0.64, 0.72),
    "vae": (0.9, 0.72),
    "scheduler": (0.64, 0.2),
}
classes = {
    n: cfg[n].get("_class_name") or kind
    for n, kind in [
        ("tokenizer", tok["tokenizer_class"]),
        ("text_encoder", te["architectures"][0]),
        ("unet", ""),
        ("vae", ""),
        ("scheduler", ""),
    ]
}
edges = [  # from (x, y), to (x, y), label
    (
        (0.1 + W / 2, 0.72),
        (0.36 - W / 2, 0.72),
        f"ids\n<= {tok['model_max_length']}",
    ),
    (
        (0.36 + W / 2, 0.72),
        (0.64 - W / 2, 0.72),
        f"states\nwidth {te['hidden_size']}",
    ),
    (
        (0.64 + W / 2, 0.72),
        (0.9 - W / 2, 0.72),
        f"latents\n{vae['latent_channels']} ch",
    ),
    ((0.6, 0.72 - H / 2), (0.6, 0.2 + H / 2), sched["prediction_type"]),
    (
        (0.68, 0.2 + H / 2),
        (0.68, 0.72 - H / 2),
        f"{sched['timestep_spacing']} t",
    ),
]
fig, ax = plt.subplots(figsize=(10, 3.2))
ax.set_axis_off()
ax.set_xlim(0, 1), ax.set_ylim(0, 1)
for name, (x, y) in boxes.items():
    ax.add_patch(
        plt.Rectangle((x - W / 2, y - H / 2), W, H, fc="#e8eaf6", ec="#3949ab")
    )
    ax.text(
        x, y, f"{name}\n{classes[name]}", ha="center", va="center", fontsize=8
    )
for (xa, ya), (xb, yb), label in edges:
    ax.annotate("", (xb, yb), (xa, ya), arrowprops=dict(arrowstyle="->"))
    dx = 0 if ya == yb else (-0.01 if xb < 0.64 else 0.01)
    ax.text(
        (xa + xb) / 2 + dx,
        (ya + yb) / 2 + (0.03 if ya == yb else 0),
        label,
        fontsize=8,
        va="bottom" if ya == yb else "center",
        ha="center" if ya == yb else ("right" if dx < 0 else "left"),
    )
alt = (
    "Component graph read from the configs. In a row: tokenizer, then "
    f"text_encoder (ids, at most {tok['model_max_length']} tokens), then "
    f"unet (states of width {te['hidden_size']}), then vae (latents with "
    f"{vae['latent_channels']} channels). Below the unet, the scheduler: "
    f"it takes the unet's {sched['prediction_type']} output and gives back "
    f"{sched['timestep_spacing']} timesteps."
)
save_figure(fig, "component_graph.png", alt=alt)
# --8<-- [end:graph]

assert all(
    v
    == {"text_encoder": te, "unet": unet, "vae": vae}[r.split(".")[0]][
        r.split(".")[1]
    ]
    for _, v, r in pairs
)
assert size == 128
glue("factor", factor)
glue("default_size", size)
glue("n_checks", len(pairs))
glue("text_width", te["hidden_size"])
glue("max_tokens", tok["model_max_length"])
glue("vocab", len(vocab))
glue("latent_channels", vae["latent_channels"])
glue("sample_size", unet["sample_size"])
