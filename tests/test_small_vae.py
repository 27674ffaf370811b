"""The shipped VAE loads offline and clears the bars its issue set."""

from __future__ import annotations

import json
import re

import pytest
import torch
from conftest import run_offline, train_twice

from infralens import small_vae
from infralens.training_data import HELD_OUT, TRAINING_IMAGES

WEIGHTS = small_vae.MODEL_DIR / "diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def vae():
    torch.set_num_threads(2)
    return small_vae.load()


@pytest.fixture(scope="module")
def evaluation(vae):
    return small_vae.evaluate(vae)


def test_loads_with_from_pretrained_and_no_network():
    code = (
        "from diffusers import AutoencoderKL; "
        f"v = AutoencoderKL.from_pretrained({str(small_vae.MODEL_DIR)!r});"
        " print(type(v).__name__)"
    )
    out = run_offline(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "AutoencoderKL"


def test_stable_diffusion_shape(vae):
    cfg = vae.config
    assert len(cfg.block_out_channels) == 4
    assert cfg.latent_channels == 4
    assert list(cfg.down_block_types) == ["DownEncoderBlock2D"] * 4
    assert cfg.mid_block_add_attention is True
    z = vae.encode(torch.zeros(1, 3, 64, 96)).latent_dist.mode()
    assert z.shape == (1, 4, 8, 12)


def test_weights_are_safetensors_within_16_mb():
    assert WEIGHTS.is_file()
    assert WEIGHTS.stat().st_size <= 16 * 1000 * 1000


def test_heldout_psnr_at_128x192_clears_24_db(evaluation):
    row = next(r for r in evaluation["rows"] if r["size"] == "128x192")
    assert row["psnr"] >= 24.0


def test_scaled_latents_of_the_image_set_have_std_near_one(evaluation):
    for row in evaluation["rows"]:
        assert row["set_images"] >= 13, row
        assert 0.9 <= row["std_set"] <= 1.1, row


def test_scaling_factor_is_one_over_measured_std():
    log = json.loads((small_vae.MODEL_DIR / "training_log.json").read_text())
    cfg = json.loads((small_vae.MODEL_DIR / "config.json").read_text())
    assert cfg["scaling_factor"] == log["scaling_factor"]
    assert (
        abs(1 / log["scaling_batch"]["latent_std"] - cfg["scaling_factor"])
        < 1e-4
    )


def test_chelsea_is_held_out_of_training():
    names = {img.name for img in TRAINING_IMAGES}
    files = {img.file for img in TRAINING_IMAGES}
    assert HELD_OUT not in names and "cat" not in names
    assert "chelsea.png" not in files


def test_model_card_numbers_match_a_fresh_evaluation(vae, evaluation):
    card = (small_vae.MODEL_DIR / "README.md").read_text()
    for row in evaluation["rows"]:
        assert f"| {row['size']} | {row['psnr']:.2f} |" in card, row
        assert (
            f"| {row['size']} | {row['set_images']} | {row['std_set']:.3f} |"
            in card
        ), row
    enc = sum(p.numel() for p in vae.encoder.parameters())
    assert f"{enc:,}" in card
    assert f"scaling_factor = {vae.config.scaling_factor}" in card
    for img in TRAINING_IMAGES:
        assert re.search(rf"`{img.name}`.*\|.*{re.escape(img.license)}", card)


def test_training_script_is_deterministic_from_its_seed(tmp_path):
    args = ("--steps", "2", "--batch", "2", "--log-every", "1")
    outs, stdouts = train_twice(tmp_path, "train_vae.py", *args)
    assert all("scaling_factor" in text for text in stdouts)
    a, b = (
        (o / "diffusion_pytorch_model.safetensors").read_bytes() for o in outs
    )
    assert a == b
