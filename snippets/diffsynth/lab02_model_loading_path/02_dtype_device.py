"""dtype and device decisions: what the files store, what the default load
makes of it, and what a dtype argument (one for all, or per component)
changes."""

import json
from collections import Counter

import torch
from diffusers import DiffusionPipeline
from safetensors import safe_open

from infralens import glue
from infralens.tiny_pipeline import MODEL_DIR, load, weight_files

MODULES = ("text_encoder", "unet", "vae")


def dtypes(pipe):
    return {
        n: str(getattr(pipe, n).dtype).removeprefix("torch.") for n in MODULES
    }


# --8<-- [start:stored]
for path in weight_files():  # every component's .safetensors
    with safe_open(path, framework="pt") as f:
        kinds = Counter(f.get_slice(k).get_dtype() for k in f.keys())
    print(f"{path.parent.name + '/' + path.name:<48}{dict(kinds)}")
te_config = json.loads((MODEL_DIR / "text_encoder/config.json").read_text())
print("text_encoder/config.json says dtype:", te_config["dtype"])
# --8<-- [end:stored]

# --8<-- [start:default]
pipe = load()  # no dtype, no device: from_pretrained's defaults
for name in MODULES:
    module = getattr(pipe, name)
    print(f"{name:<13}{str(module.dtype):<15}{module.device}")
print("pipe.dtype:", pipe.dtype, "| pipe.device:", pipe.device)
# --8<-- [end:default]

# --8<-- [start:requested]
one = DiffusionPipeline.from_pretrained(MODEL_DIR, dtype=torch.bfloat16)
per = DiffusionPipeline.from_pretrained(  # (1)!
    MODEL_DIR, dtype={"unet": torch.bfloat16, "default": torch.float32}
)
print("dtype=bfloat16:       ", dtypes(one))
print("dtype={'unet': bf16}: ", dtypes(per))
print("per.dtype reports:", per.dtype)  # (2)!
# --8<-- [end:requested]

stored = {}
for path in weight_files():
    with safe_open(path, framework="pt") as f:
        stored[path.parent.name] = {
            f.get_slice(k).get_dtype() for k in f.keys()
        }
assert stored["unet"] == {"F16"} and stored["small-vae"] == {"F32"}
assert set(dtypes(pipe).values()) == {"float32"}
assert set(dtypes(one).values()) == {"bfloat16"}
assert dtypes(per)["unet"] == "bfloat16" and per.dtype == torch.float32
glue("unet_stored", next(iter(stored["unet"])))
glue("default_dtype", dtypes(pipe)["unet"])
glue("te_config_dtype", te_config["dtype"])
glue("per_reports", str(per.dtype).removeprefix("torch."))
