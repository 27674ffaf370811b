"""Parameters and resident bytes per component, against the bytes of the
weight file each one was loaded from."""

import matplotlib.pyplot as plt
import torch

from infralens import glue, save_figure
from infralens.tiny_pipeline import MODEL_DIR, load

pipe = load()

# --8<-- [start:bytes]
rows = {}
for name in ("text_encoder", "unet", "vae"):
    module = getattr(pipe, name)
    params = sum(p.numel() for p in module.parameters())
    resident = sum(
        t.numel() * t.element_size()
        for t in [*module.parameters(), *module.buffers()]
    )
    folder = (MODEL_DIR / name).resolve()  # (1)!
    on_disk = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
    rows[name] = (params, resident, on_disk)
    print(
        f"{name:<13}{params:>10,} params {resident / 1e6:6.2f} MB in "
        f"memory {on_disk / 1e6:6.2f} MB on disk"
    )
tensors = {
    k: v for k, v in vars(pipe.scheduler).items() if torch.is_tensor(v)
}  # (2)!
sched_bytes = sum(t.numel() * t.element_size() for t in tensors.values())
print(f"{'scheduler':<13}{0:>10,} params {sched_bytes / 1e6:6.2f} MB in:")
for key, t in tensors.items():
    size = t.numel() * t.element_size()
    print(f"  {key:<21}{str(t.dtype):<15}{str(tuple(t.shape)):<8}{size:>6,} B")
print(f"{'tokenizer':<13}{len(pipe.tokenizer):>10,} vocabulary entries")
# --8<-- [end:bytes]

# --8<-- [start:chart]
fig, ax = plt.subplots(figsize=(7, 2.6))
names = list(rows)
for i, (label, col, color) in enumerate(
    [("on disk", 2, "#9fa8da"), ("in memory", 1, "#3949ab")]
):
    ax.barh(
        [y + 0.2 * (1 - 2 * i) for y in range(len(names))],
        [rows[n][col] / 1e6 for n in names],
        height=0.4,
        label=label,
        color=color,
    )
ax.set_yticks(range(len(names)), names)
ax.invert_yaxis()
ax.set_xlabel("MB")
ax.legend(loc="lower right")
fig.tight_layout()
pairs = ", ".join(
    f"{n} {rows[n][2] / 1e6:.2f} on disk and {rows[n][1] / 1e6:.2f} in memory"
    for n in names
)
save_figure(fig, "resident_bytes.png", alt=f"Paired bars in MB: {pairs}.")
# --8<-- [end:chart]

unet_params, unet_mem, unet_disk = rows["unet"]
assert abs(unet_mem / unet_disk - 2) < 0.05  # float16 file, float32 model
total = sum(r[1] for r in rows.values())
glue("unet_params", f"{unet_params:,}")
glue("unet_ratio", f"{unet_mem / unet_disk:.1f}")
glue("total_mb", f"{total / 1e6:.1f}")
glue("sched_kb", f"{sched_bytes / 1e3:.0f}")
assert set(tensors) == {
    "betas",
    "alphas",
    "alphas_cumprod",
    "final_alpha_cumprod",
    "timesteps",
}
steps = tensors["timesteps"]
glue("timesteps_kb", f"{steps.numel() * steps.element_size() / 1e3:.0f}")
glue("vae_share", f"{100 * rows['vae'][1] / total:.0f}")
