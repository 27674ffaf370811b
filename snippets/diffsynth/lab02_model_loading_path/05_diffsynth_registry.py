"""DiffSynth-Studio's loading path identifies a weight file by a hash of its
key names and tensor shapes. Its own hash function and registry, run from
the installed files, on the tiny pipeline and on Stable Diffusion 1.x's
architecture built on the meta device."""

import importlib.util
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

from infralens import glue, output_dir
from infralens.tiny_pipeline import MODEL_DIR, weight_files

# --8<-- [start:import]
try:
    import diffsynth  # noqa: F401
except ImportError as error:
    print(f"import diffsynth: {type(error).__name__}: {error}")
# --8<-- [end:import]

# --8<-- [start:isolated]
DIFFSYNTH = Path(
    importlib.util.find_spec("diffsynth").submodule_search_locations[0]
)


def diffsynth_file(relative):
    """Execute one installed DiffSynth-Studio file on its own."""
    path = DIFFSYNTH / relative
    names = {"__name__": f"diffsynth_isolated.{path.stem}"}
    exec(compile(path.read_text(), str(path), "exec"), names)
    return names


loader = diffsynth_file("core/loader/file.py")  # (1)!
registry = diffsynth_file("configs/model_configs.py")["MODEL_CONFIGS"]
by_hash = {}
for entry in registry:
    by_hash.setdefault(entry["model_hash"], []).append(entry["model_name"])
print(f"{len(registry)} registry entries, {len(by_hash)} distinct hashes")
# --8<-- [end:isolated]

# --8<-- [start:tiny]
for path in weight_files():
    digest = loader["hash_model_file"](str(path))  # (2)!
    found = by_hash.get(digest, "not in the registry")
    print(f"{path.parent.name:<13}{digest}  {found}")
# --8<-- [end:tiny]

# --8<-- [start:invariance]
shipped = MODEL_DIR / "unet" / "diffusion_pytorch_model.safetensors"
config = UNet2DConditionModel.load_config(MODEL_DIR / "unet")
torch.manual_seed(0)
fresh = UNet2DConditionModel.from_config(config)  # random weights, float32
wider = UNet2DConditionModel.from_config(config, cross_attention_dim=32)
scratch = output_dir()  # a folder outside the repository
for name, model in (("random float32", fresh), ("other width", wider)):
    path = scratch / f"{name.replace(' ', '_')}.safetensors"
    save_file(model.state_dict(), path)
    same = loader["hash_model_file"](str(path)) == loader["hash_model_file"](
        str(shipped)
    )
    print(f"shipped float16 UNet vs {name:<15} same hash: {same}")
# --8<-- [end:invariance]

# --8<-- [start:sd1]
with torch.device("meta"):  # architectures only: no weights, no memory
    unet = UNet2DConditionModel(cross_attention_dim=768, sample_size=64)
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2,
    )
    clip_l = CLIPTextConfig(  # (3)!
        hidden_size=768, intermediate_size=3072, num_attention_heads=12
    )
    text = CLIPTextModel(clip_l)
old_names = {
    ".to_q.": ".query.",
    ".to_k.": ".key.",
    ".to_v.": ".value.",
    ".to_out.0.": ".proj_attn.",
}  # (4)!


def renamed(state):
    out = {}
    for key, value in state.items():
        for new, old in old_names.items():
            key = key.replace(new, old)
        out[key] = value
    return out


text_sd = {"text_model." + k: v for k, v in text.state_dict().items()}
text_sd["text_model.embeddings.position_ids"] = torch.empty(1, 77)  # (5)!
candidates = {
    "unet, installed naming": unet.state_dict(),
    "vae, installed naming": vae.state_dict(),
    "vae, registry file naming": renamed(vae.state_dict()),
    "text encoder, installed naming": text.state_dict(),
    "text encoder, registry naming": text_sd,
}
for label, state in candidates.items():
    digest = loader["hash_state_dict_keys"](state)
    print(f"{label:<31}{digest}  {by_hash.get(digest, '-')}")
# --8<-- [end:sd1]

hashes = {
    label: loader["hash_state_dict_keys"](s) for label, s in candidates.items()
}
names = {label: by_hash.get(h, [None])[0] for label, h in hashes.items()}
assert names["unet, installed naming"] == "stable_diffusion_unet"
assert names["vae, registry file naming"] == "stable_diffusion_vae"
assert names["vae, installed naming"] == "stable_diffusion_xl_vae"
assert (
    names["text encoder, registry naming"] == "stable_diffusion_text_encoder"
)
assert names["text encoder, installed naming"] is None
assert not any(
    loader["hash_model_file"](str(p)) in by_hash for p in weight_files()
)
glue("n_entries", len(registry))
glue("n_hashes", len(by_hash))
glue("sd_unet_hash", hashes["unet, installed naming"])
glue("vae_new_hash", hashes["vae, installed naming"])
