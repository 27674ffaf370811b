"""Lab 09: its page keeps the standard anatomy, its snippets run, every
value its page and handbook section quote was glued by a run, the shipped
ControlNets are what the training script describes, and the behaviour
the pages claim holds."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from infralens.labs import check_page, missing_sections

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs/tracks/diffsynth"
PAGE = DOCS / "labs/lab-09-multi-control-pipeline-reading.md"
SECTION = DOCS / "handbook/multi-control-pipeline-reading.md"
FOLDER = ROOT / "snippets/diffsynth/lab09_multi_control_pipeline_reading"
SNIPPETS = sorted(FOLDER.glob("*.py"))


def glue_of(site_results, name):
    rel = (FOLDER / name).relative_to(ROOT).as_posix()
    return site_results.result(rel).glue


def test_page_has_the_standard_anatomy():
    assert missing_sections(PAGE) == []


def test_snippets_ran_clean_and_values_were_glued(site_results):
    check_page(PAGE, ROOT, site_results)


def training_script():
    path = ROOT / "scripts/train_controlnets.py"
    spec = importlib.util.spec_from_file_location("train_controlnets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["tone", "layout"])
def test_shipped_controlnet_is_what_the_script_describes(name):
    from diffusers import ControlNetModel
    from safetensors import safe_open

    from infralens import controls, tiny_pipeline

    script = training_script()
    folder = controls.MODEL_DIRS[name]
    log = json.loads((folder / "training_log.json").read_text())
    assert log["control"] == name
    assert log["seed"] == script.SEED
    assert log["steps"] == script.STEPS[name]
    assert log["lr"] == script.LR[name]
    assert log["crops_per_image"] == script.CROPS_PER_IMAGE
    assert log["caption_dropout"] == script.CAPTION_DROPOUT
    assert log["validation_crops"] == script.VALIDATION
    assert tuple(log["embedding_channels"]) == controls.EMBEDDING_CHANNELS
    assert log["layout_cell"] == controls.LAYOUT_CELL
    assert log["tone_cell"] == controls.TONE_CELL
    weights = folder / "diffusion_pytorch_model.safetensors"
    assert weights.stat().st_size < 3 * 2**20  # a few MB at most
    with safe_open(weights, "pt") as f:
        dtypes = {str(f.get_tensor(k).dtype) for k in f.keys()}
    assert dtypes == {"torch.float16"}
    net = ControlNetModel.from_pretrained(folder)
    unet = json.loads(
        (tiny_pipeline.MODEL_DIR / "unet/config.json").read_text()
    )
    assert list(net.config.block_out_channels) == unet["block_out_channels"]
    assert tuple(net.config.conditioning_embedding_out_channels) == (
        controls.EMBEDDING_CHANNELS
    )
    assert sum(p.numel() for p in net.parameters()) == log["parameters"]
    v = log["validation"]
    assert v["with_control"] < v["black_control"]  # the image is used


def test_controls_are_summed_and_windowed(site_results):
    glued = glue_of(site_results, "01_controlnet_anatomy.py")
    assert float(glued["sum_gap"]) < 1e-5
    glued = glue_of(site_results, "multi_control_pipeline_reading.py")
    steps = int(glued["steps"])
    assert int(glued["calls"]) == 2 * steps  # called outside the window
    assert glued["tone_off"] == "8 and 9"
    assert glued["layout_off"] == "0 and 1"


def test_diffsynth_skips_what_diffusers_multiplies_by_zero(site_results):
    glued = glue_of(site_results, "05_diffsynth_window.py")
    assert int(glued["ds_calls"]) < int(glued["all_calls"])
    assert glued["ds_net0"] == glued["df_net0"]
    assert glued["ds_net1"] == glued["df_net1"]
