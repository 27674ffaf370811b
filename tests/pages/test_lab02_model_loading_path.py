"""Lab 02: its page keeps the standard anatomy, its snippets run through
the session build, every value its page quotes was glued, and the runs show
what the pages say they show."""

from __future__ import annotations

from pathlib import Path

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
FOLDER = "snippets/diffsynth/lab02_model_loading_path"
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-02-model-loading-path.md"
HANDBOOK = ROOT / "docs/tracks/diffsynth/handbook/model-loading-path.md"
SNIPPETS = sorted((ROOT / FOLDER).glob("*.py"))


def run(site_results, name):
    return site_results.result(f"{FOLDER}/{name}")


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


def test_each_component_reads_its_own_files(site_results):
    out = run(site_results, "01_trace_load.py").output("table")
    assert "models/small-vae/diffusion_pytorch_model.safetensors" in out
    assert "models/tiny-sd/unet/diffusion_pytorch_model.safetensors" in out
    assert "vocab.json" not in out  # the tokenizer reads tokenizer.json


def test_float16_file_loads_as_float32_unless_asked(site_results):
    result = run(site_results, "02_dtype_device.py")
    assert result.glue["unet_stored"] == "F16"
    assert result.glue["default_dtype"] == "float32"
    assert result.glue["per_reports"] == "float32"  # pipe.dtype: one module
    assert (
        float(run(site_results, "03_resident_bytes.py").glue["unet_ratio"])
        == 2
    )


def test_models_are_built_on_the_meta_device(site_results):
    out = run(site_results, "04_meta_init.py").output("compare")
    low, full = out.splitlines()[1:3]
    assert low.split()[1:4] == ["meta", "meta", "meta"]
    assert full.split()[1:4] == ["meta", "cpu", "cpu"]


def test_diffsynth_registry_recognises_sd1_by_names_and_shapes(site_results):
    out = run(site_results, "05_diffsynth_registry.py").output("sd1")
    assert "['stable_diffusion_unet']" in out
    assert "['stable_diffusion_xl_vae']" in out  # today's VAE names
    assert "['stable_diffusion_vae']" in out
    assert "['stable_diffusion_text_encoder']" in out


def test_diffsynth_load_steps_match_diffusers(site_results):
    out = run(site_results, "06_diffsynth_init.py").output("same")
    assert "same output as diffusers' load: True" in out


def test_mixed_dtype_and_device_fail_inside_the_call(site_results):
    result = run(site_results, "07_traps.py")
    assert "RuntimeError" in result.output("dtype")
    assert "pipe.dtype says: torch.float32" in result.output("dtype")
    assert "RuntimeError" in result.output("device")
    assert "pipe.device says: cpu" in result.output("device")
