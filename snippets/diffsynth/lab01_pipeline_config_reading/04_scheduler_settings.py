"""The scheduler's settings live in scheduler_config.json, not in the
class: the folder's values against DDIMScheduler's own defaults."""

from diffusers import DDIMScheduler

from infralens import glue
from infralens.tiny_pipeline import MODEL_DIR

# --8<-- [start:diff]
folder = DDIMScheduler.from_pretrained(MODEL_DIR, subfolder="scheduler")
bare = DDIMScheduler()  # (1)!
changed = [
    k
    for k in bare.config
    if not k.startswith("_") and folder.config[k] != bare.config[k]
]
print(f"{'field':<24}{'class default':<16}this folder")
for key in changed:
    print(f"{key:<24}{bare.config[key]!r:<16}{folder.config[key]!r}")
# --8<-- [end:diff]

# --8<-- [start:timesteps]
for name, sched in (("this folder", folder), ("class default", bare)):
    sched.set_timesteps(20)
    t = [int(x) for x in sched.timesteps]
    signal = float(sched.alphas_cumprod[t[0]])  # (2)!
    print(
        f"{name:<14} 20 steps: {t[:3]} ... {t[-1]}; "
        f"alphas_cumprod[{t[0]}] = {signal:.2g}"
    )
# --8<-- [end:timesteps]

assert folder.config.prediction_type == "v_prediction"
assert bare.config.prediction_type == "epsilon"
folder.set_timesteps(20)
bare.set_timesteps(20)
assert float(folder.alphas_cumprod[int(folder.timesteps[0])]) == 0.0
glue("n_changed", len(changed))
glue("n_fields", len([k for k in bare.config if not k.startswith("_")]))
glue("bare_first", int(bare.timesteps[0]))
glue("folder_first", int(folder.timesteps[0]))
glue(
    "bare_signal", f"{float(bare.alphas_cumprod[int(bare.timesteps[0])]):.2g}"
)
