"""The steps of DiffSynth-Studio's default load_model branch, on the tiny
UNet, with DiffSynth's own skip_model_initialization and DiskMap run from
their installed files: construct on the meta device, read the file
through a DiskMap, assign, cast."""

import importlib.util
import re
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from diffusers.utils import logging

from infralens import glue
from infralens.tiny_pipeline import MODEL_DIR, load

# diffusers' ModelMixin.to(dtype=...) logs a note about float32 modules
# (this UNet has none); DiffSynth's own model classes are plain nn.Modules
logging.set_verbosity_error()
DIFFSYNTH = Path(
    importlib.util.find_spec("diffsynth").submodule_search_locations[0]
)


def diffsynth_file(relative):
    """Execute one installed DiffSynth-Studio file on its own."""
    path = DIFFSYNTH / relative
    names = {"__name__": f"diffsynth_isolated.{path.stem}"}
    exec(compile(path.read_text(), str(path), "exec"), names)
    return names


# --8<-- [start:steps]
init = diffsynth_file("core/vram/initialization.py")
DiskMap = diffsynth_file("core/vram/disk_map.py")["DiskMap"]
config = UNet2DConditionModel.load_config(MODEL_DIR / "unet")
path = str(MODEL_DIR / "unet" / "diffusion_pytorch_model.safetensors")
dtype, device = torch.float32, "cpu"  # the pool's computation dtype, device

with init["skip_model_initialization"]():  # (1)!
    unet = UNet2DConditionModel.from_config(config)
print("after construction:", {p.device.type for p in unet.parameters()})
state = DiskMap(path, device, torch_dtype=dtype)  # (2)!
state = {name: state[name] for name in state}  # no converter for this file
unet.load_state_dict(state, assign=True)  # (3)!
print(
    "after assign:      ",
    {str(p.dtype) for p in unet.parameters()},
    {p.device.type for p in unet.parameters()},
)
unet = unet.to(dtype=dtype, device=device).eval()
# --8<-- [end:steps]

# --8<-- [start:same]
reference = load().unet  # the same file through diffusers' from_pretrained
x = torch.randn(2, 4, 16, 16)  # (B, 4, H/8, W/8)
states = torch.randn(2, 16, 64)  # (B, tokens, width)
with torch.no_grad():
    a = unet(x, 500, encoder_hidden_states=states).sample
    b = reference(x, 500, encoder_hidden_states=states).sample
print("same output as diffusers' load:", torch.equal(a, b))
# --8<-- [end:same]

# --8<-- [start:override]
pattern = re.compile(r"_vram_config_override")
for file in sorted(DIFFSYNTH.rglob("*.py")):
    for number, line in enumerate(file.read_text().splitlines(), 1):
        if pattern.search(line):
            rel = file.relative_to(DIFFSYNTH.parent)
            print(f"{rel}:{number}: {line.strip()[:46]}")
# --8<-- [end:override]

uses = [
    line
    for file in DIFFSYNTH.rglob("*.py")
    for line in file.read_text().splitlines()
    if "_vram_config_override" in line
]
assert uses and all("mc._vram_config_override = {" in u for u in uses)
assert torch.equal(a, b)
glue("n_override", len(uses))
