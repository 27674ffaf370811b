"""model_index.json names the pipeline class and every component; diffusers'
own resolver turns each [library, class] pair into a Python class."""

import json

from diffusers import pipelines
from diffusers.pipelines.pipeline_loading_utils import (
    ALL_IMPORTABLE_CLASSES,
    get_class_obj_and_candidates,
)

from infralens import glue
from infralens.tiny_pipeline import MODEL_DIR

# --8<-- [start:folder]
for path in sorted(MODEL_DIR.iterdir()):
    if not path.is_dir():
        continue
    link = f" -> {path.resolve().name}/" if path.is_symlink() else ""
    files = sorted(f.name for f in path.iterdir() if f.suffix != ".md")
    print(f"{path.name + '/' + link:<28}{', '.join(files)}")
# --8<-- [end:folder]

# --8<-- [start:index]
index = json.loads((MODEL_DIR / "model_index.json").read_text())
print("_class_name:", index["_class_name"])
for name, value in index.items():
    if name.startswith("_"):
        continue
    if not isinstance(value, list):
        kind = f"setting   {value!r}"
    elif value[0] is None:
        kind = "absent    [null, null]"
    else:
        kind = f"component {value[0]} / {value[1]}"
    print(f"  {name:<24}{kind}")
# --8<-- [end:index]

# --8<-- [start:resolve]
resolved = {}
for name, value in index.items():
    if not isinstance(value, list) or value[0] is None:
        continue
    library, class_name = value
    cls, candidates = get_class_obj_and_candidates(  # (1)!
        library,
        class_name,
        ALL_IMPORTABLE_CLASSES,
        pipelines,
        is_pipeline_module=hasattr(pipelines, library),
        component_name=name,
        cache_dir=str(MODEL_DIR),
    )
    base = next(  # (2)!
        b
        for b, c in candidates.items()
        if c is not None and issubclass(cls, c)
    )
    resolved[name] = base
    print(f"{name:<13}{cls.__module__}.{cls.__name__}")
    print(f"{'':<13}a {base}: {cls.__name__}.from_pretrained(...)")
# --8<-- [end:resolve]

components = [k for k, v in index.items() if isinstance(v, list) and v[0]]
absent = [k for k, v in index.items() if isinstance(v, list) and not v[0]]
assert index["_class_name"] == "StableDiffusionPipeline"
assert sorted(components) == sorted(resolved)
assert (MODEL_DIR / "vae").is_symlink()
glue("n_components", len(components))
glue("n_absent", len(absent))
glue("absent", ", ".join(absent))
glue("tokenizer_base", resolved["tokenizer"])
