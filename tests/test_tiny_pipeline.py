"""The shipped tiny pipeline loads offline as a standard diffusers
pipeline, generates deterministically, trains reproducibly, and refuses
bad input clearly."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil

import numpy as np
import pytest
import torch
from conftest import run_offline, train_twice

from infralens import small_vae, tiny_pipeline
from infralens.training_data import HELD_OUT, TRAINING_IMAGES

FOLDER = tiny_pipeline.MODEL_DIR


@pytest.fixture(scope="module")
def pipe():
    torch.set_num_threads(2)
    return tiny_pipeline.load()


def _generate(pipe, seed, prompt=None, guidance=5.0, **kw):
    return pipe(
        prompt or tiny_pipeline.prompt("brick"),
        num_inference_steps=20,
        guidance_scale=guidance,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
        **kw,
    ).images


def test_loads_offline_as_stable_diffusion_pipeline():
    code = (
        "from diffusers import DiffusionPipeline; "
        f"p = DiffusionPipeline.from_pretrained({str(FOLDER)!r}); "
        "print(type(p).__name__, sorted(p.components))"
    )
    out = run_offline(code)
    assert out.returncode == 0, out.stderr
    name, _, components = out.stdout.strip().partition(" ")
    assert name == "StableDiffusionPipeline"
    for c in tiny_pipeline.COMPONENTS:
        assert repr(c) in components


def test_each_component_loads_on_its_own(pipe):
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTokenizer

    unet = UNet2DConditionModel.from_pretrained(FOLDER, subfolder="unet")
    text = CLIPTextModel.from_pretrained(FOLDER, subfolder="text_encoder")
    tok = CLIPTokenizer.from_pretrained(FOLDER, subfolder="tokenizer")
    sched = DDIMScheduler.from_pretrained(FOLDER, subfolder="scheduler")
    vae = AutoencoderKL.from_pretrained(FOLDER, subfolder="vae")
    assert unet.config.cross_attention_dim == text.config.hidden_size
    assert unet.config.in_channels == vae.config.latent_channels
    assert tok.model_max_length == tiny_pipeline.MAX_TOKENS
    assert sched.config.clip_sample is False
    assert sched.config.prediction_type == "v_prediction"
    assert sched.config.rescale_betas_zero_snr is True
    mine, theirs = unet.state_dict(), pipe.unet.state_dict()
    assert mine.keys() == theirs.keys()
    for a, b in zip(mine.values(), theirs.values(), strict=True):
        assert torch.equal(a, b)


def test_vae_is_the_shipped_small_vae_byte_for_byte():
    name = "diffusion_pytorch_model.safetensors"
    a = (FOLDER / "vae" / name).read_bytes()
    b = (small_vae.MODEL_DIR / name).read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()


def test_weights_together_within_20_mb():
    files = tiny_pipeline.weight_files()
    assert [f.parent.name for f in files] == [
        "small-vae",
        "text_encoder",
        "unet",
    ]
    total = sum(p.stat().st_size for p in files)
    assert total <= 20 * 1000 * 1000, total


def test_clip_format_tokenizer_files_agree_with_tokenizer_json():
    from transformers import CLIPTokenizer

    tok_dir = FOLDER / "tokenizer"
    fast = CLIPTokenizer.from_pretrained(tok_dir)
    vocab = json.loads((tok_dir / "vocab.json").read_text())
    merges = [
        tuple(line.split(" "))
        for line in (tok_dir / "merges.txt").read_text().splitlines()[1:]
    ]
    from_files = CLIPTokenizer(vocab=vocab, merges=merges)
    for text in [*tiny_pipeline.all_captions(), "a photo of a cat", ""]:
        assert fast(text).input_ids == from_files(text).input_ids
    # every caption word is one token; an unseen word falls back to bytes
    ids = fast("a photo of red bricks").input_ids
    assert len(ids) == 2 + 5
    assert len(fast("zebra").input_ids) > 3


def test_tokenizer_is_rebuilt_identically_from_the_captions():
    tok = tiny_pipeline.build_tokenizer()
    shipped = json.loads((FOLDER / "tokenizer" / "vocab.json").read_text())
    assert tok.get_vocab() == shipped


def test_same_seed_same_bytes_other_seed_other_image(pipe):
    a = _generate(pipe, 0)
    b = _generate(pipe, 0)
    c = _generate(pipe, 1)
    assert a.shape == (1, 128, 128, 3)
    assert a.tobytes() == b.tobytes()
    assert np.abs(a - c).mean() > 0.01


def test_shapes_through_the_pipeline(pipe):
    seen = {}

    def record(name):
        def hook(module, args, kwargs, out):
            x = args[0] if args else kwargs["sample"]
            seen.setdefault(name, []).append(tuple(x.shape))

        return hook

    handles = [
        pipe.unet.register_forward_hook(record("unet"), with_kwargs=True),
        pipe.text_encoder.register_forward_hook(
            record("text_encoder"), with_kwargs=True
        ),
        pipe.vae.decoder.register_forward_hook(
            record("vae.decoder"), with_kwargs=True
        ),
    ]
    try:
        image = _generate(pipe, 0, guidance=5.0)
        guided = dict(seen)
        seen.clear()
        _generate(pipe, 0, guidance=1.0)
    finally:
        for h in handles:
            h.remove()
    assert image.shape == (1, 128, 128, 3)
    # classifier-free guidance: prompt and empty prompt, one batch of two
    assert guided["unet"] == [(2, 4, 16, 16)] * 20
    assert guided["text_encoder"] == [(1, 16)] * 2
    assert guided["vae.decoder"] == [(1, 4, 16, 16)]
    # guidance 1 skips the unconditional half
    assert seen["unet"] == [(1, 4, 16, 16)] * 20
    assert seen["text_encoder"] == [(1, 16)]


def test_prompt_longer_than_the_tokenizer_limit(pipe, caplog):
    long = "a photo of " + " ".join(["red bricks"] * 6)
    with pytest.raises(ValueError, match=r"is 17 tokens .* at most 16"):
        tiny_pipeline.check_prompt(pipe.tokenizer, long)
    # diffusers itself does not refuse: it cuts the prompt and says so
    logger = logging.getLogger("diffusers")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="diffusers"):
            _generate(pipe, 0, prompt=long)
    finally:
        logger.removeHandler(caplog.handler)
    assert "truncated because CLIP can only handle" in caplog.text


def test_size_not_a_multiple_of_eight(pipe):
    with pytest.raises(ValueError, match="divisible by 8 but are 130"):
        _generate(pipe, 0, height=130, width=128)


def test_missing_component_folder_is_named(tmp_path):
    copy = tmp_path / "tiny-sd"
    shutil.copytree(FOLDER, copy, symlinks=False)
    shutil.rmtree(copy / "unet")
    with pytest.raises(FileNotFoundError) as err:
        tiny_pipeline.load(folder=copy)
    msg = str(err.value)
    assert "model_index.json:" in msg and "unet" in msg
    assert str(copy / "unet") in msg


def test_two_step_training_twice_gives_identical_weights(tmp_path):
    args = ("--steps", "2", "--crops-per-image", "2")
    outs, _ = train_twice(tmp_path, "train_pipeline.py", *args)
    for rel in (
        "unet/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors",
        "tokenizer/vocab.json",
    ):
        a, b = ((o / rel).read_bytes() for o in outs)
        assert a == b, rel
    assert (outs[0] / "vae").resolve() == small_vae.MODEL_DIR.resolve()


def test_training_never_used_the_held_out_image():
    log = json.loads((FOLDER / "training_log.json").read_text())
    assert HELD_OUT not in {i.name for i in TRAINING_IMAGES}
    assert HELD_OUT not in tiny_pipeline.SUBJECTS
    assert log["crops"] == log["crops_per_image"] * len(TRAINING_IMAGES)
    assert log["samples_seen"] == log["steps"] * log["batch"]
