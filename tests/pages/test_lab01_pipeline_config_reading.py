"""Lab 01: its page keeps the standard anatomy, its snippets run through
the session build, every value its page quotes was glued, and the runs show
what the pages say they show."""

from __future__ import annotations

from pathlib import Path

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
FOLDER = "snippets/diffsynth/lab01_pipeline_config_reading"
PAGE = ROOT / "docs/tracks/diffsynth/labs/lab-01-pipeline-config-reading.md"
HANDBOOK = ROOT / "docs/tracks/diffsynth/handbook/pipeline-config-reading.md"
SNIPPETS = sorted((ROOT / FOLDER).glob("*.py"))


def run(site_results, name):
    return site_results.result(f"{FOLDER}/{name}")


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


def test_every_class_in_the_index_resolves(site_results):
    out = run(site_results, "01_model_index.py").output("resolve")
    for cls in ("DDIMScheduler", "CLIPTextModel", "CLIPTokenizer"):
        assert f".{cls}\n" in out
    assert "UNet2DConditionModel" in out and "AutoencoderKL" in out


def test_the_configs_agree_where_they_meet(site_results):
    out = run(site_results, "02_component_configs.py").output("wiring")
    assert " != " not in out
    assert out.count(" == ") == 5


def test_one_line_call_resolves_size_steps_and_guidance(site_results):
    glue = run(site_results, "03_call_defaults.py").glue
    assert glue["image_size"] == "128x128"
    assert glue["unet_calls"] == glue["default_steps"] == "50"
    assert glue["latent_in"] == "2 x 4 x 16 x 16"  # CFG doubles the batch


def test_diffsynth_defaults_disagree_with_the_folder(site_results):
    glue = run(site_results, "05_diffsynth_scheduler.py").glue
    assert float(glue["psnr_matched"]) > 35
    assert float(glue["psnr_default"]) < 15


def test_traps_change_the_output(site_results):
    result = run(site_results, "06_traps.py")
    assert all(float(db) < 20 for db in result.glue["thr_psnr"].split(" and "))
    assert "NaN pixels in the image: 100%" in result.output("prediction")
    assert "thresholding" in result.output("unnamed")
