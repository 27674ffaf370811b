"""Measure the shipped tiny pipeline and write its model card.

Usage: python scripts/evaluate_pipeline.py [--no-card]

Prints and records: parameters and file sizes per component; prompt
adherence (top-1 nearest-neighbour accuracy against chance) at several
guidance scales; the UNet's prediction error on the held-out cat
against predicting zero; image-to-image of the cat at several strengths;
the time of a guided generation on this CPU. Then writes
models/tiny-sd/README.md and the two sample pictures beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infralens import pipeline_eval as ev  # noqa: E402
from infralens import tiny_pipeline  # noqa: E402
from infralens.training_data import HELD_OUT, TRAINING_IMAGES  # noqa: E402

FOLDER = tiny_pipeline.MODEL_DIR
GUIDANCES = (1.0, ev.GUIDANCE, 5.0, 7.5)
SAMPLES_PNG = "samples.jpg"
IMG2IMG_PNG = "img2img.jpg"


def components(pipe):
    rows = []
    for name in tiny_pipeline.COMPONENTS:
        part = pipe.components[name]
        files = sorted((FOLDER / name).glob("*.safetensors"))
        size = sum(f.stat().st_size for f in files)
        if isinstance(part, torch.nn.Module):
            n = sum(p.numel() for p in part.parameters())
            with open(files[0], "rb") as fh:
                header = json.loads(
                    fh.read(int.from_bytes(fh.read(8), "little"))
                )
            dtypes = {
                v["dtype"] for k, v in header.items() if k != "__metadata__"
            }
            stored = ", ".join(sorted(dtypes))
        else:
            n, stored = None, ""
        rows.append((name, type(part).__name__, n, size, stored))
    return rows


def save_jpeg(array, path: Path):
    arr = (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8)
    Image.fromarray(arr).save(path, quality=88, optimize=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-card", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    pipe = tiny_pipeline.load()
    log = json.loads((FOLDER / "training_log.json").read_text())

    comp = components(pipe)
    for row in comp:
        print(row)
    ref = ev.reference_crops()
    sweep = {}
    for g in GUIDANCES:
        sweep[g] = ev.adherence(pipe, ref, guidance=g)
        print(f"guidance {g}: top-1 {sweep[g].correct}/{sweep[g].total}")
    main_run = sweep[ev.GUIDANCE]
    den = ev.denoising_error(pipe)
    for row in den:
        print("t={} unet={:.4f} zero={:.4f}".format(*row))
    cat, i2i = ev.img2img(pipe)
    for s, _, db in i2i:
        print(f"img2img strength {s}: {db:.2f} dB")
    timing = ev.time_generation(pipe)
    print(timing, f"decode share {timing.decode_share:.1%}")
    if args.no_card:
        return
    save_jpeg(ev.sample_grid(main_run), FOLDER / SAMPLES_PNG)
    save_jpeg(
        ev.grid([[cat, *(im for _, im, _ in i2i)]]), FOLDER / IMG2IMG_PNG
    )
    card = write_card(comp, log, sweep, den, i2i, timing, pipe)
    (FOLDER / "README.md").write_text(card)
    print(f"wrote {FOLDER / 'README.md'}")


def sd_terminal_alpha_bar(cfg) -> float:
    """alphas_cumprod at the last timestep of the same betas without the
    zero-SNR rescale."""
    from diffusers import DDPMScheduler

    sd = DDPMScheduler(
        num_train_timesteps=cfg.num_train_timesteps,
        beta_start=cfg.beta_start,
        beta_end=cfg.beta_end,
        beta_schedule=cfg.beta_schedule,
    )
    return float(sd.alphas_cumprod[-1])


def write_card(comp, log, sweep, den, i2i, timing, pipe) -> str:
    chance = 1 / len(ev.names())
    main_run = sweep[ev.GUIDANCE]
    comp_rows = "\n".join(
        f"| `{name}` | `{cls}` | "
        + (f"{n:,}" if n is not None else "-")
        + f" | {size / 1e6:.2f} MB | {stored or '-'} |"
        for name, cls, n, size, stored in comp
    )
    total_mb = sum(size for *_, size, _ in comp) / 1e6
    sweep_rows = "\n".join(
        f"| {g:g} | {r.correct}/{r.total} | {r.accuracy:.0%} |"
        for g, r in sweep.items()
    )
    per_image = "\n".join(
        f"| `{n}` | {tiny_pipeline.prompt(n)} | "
        f"{main_run.per_image[n]}/{len(ev.SEEDS)} |"
        for n in ev.names()
    )
    captions = "\n".join(
        f"| `{n}` | " + "; ".join(tiny_pipeline.SUBJECTS[n]) + " |"
        for n in ev.names()
    )
    den_rows = "\n".join(
        f"| {t} | {m:.3f} | {z:.3f} | {m / z:.2f} |" for t, m, z in den
    )
    i2i_rows = "\n".join(f"| {s} | {db:.1f} |" for s, _, db in i2i)
    first, last = log["history"][0], log["history"][-1]
    tok = pipe.tokenizer
    cfg = pipe.scheduler.config
    sd_last = sd_terminal_alpha_bar(cfg)
    text_cfg = pipe.text_encoder.config
    n_merges = len(tiny_pipeline.learn_bpe(tiny_pipeline.all_captions())[1])
    templates = ", ".join(
        f'"{t.format("…")}"' for t in tiny_pipeline.TEMPLATES
    )
    return f"""# InfraLens tiny text-to-image pipeline

A complete diffusers `StableDiffusionPipeline`, trained in this
repository on the small VAE's latents, small enough to generate a 128x128
image in {timing.generation_s:.1f} s on the 2-core CPU that wrote this
card. It exists so that every InfraLens
lab can run a real pipeline offline: tokenizer, text encoder, UNet,
scheduler and VAE. Its images are small and blurry; they are not fake.
This card is written by `scripts/evaluate_pipeline.py`; every number in
it was measured.

<!-- --8<-- [start:card] -->

## Components

| folder | class | parameters | weights | stored as |
|---|---|---|---|---|
{comp_rows}

All weights together: {total_mb:.1f} MB. The UNet's weights are stored in
float16 to keep the folder small; diffusers loads them as float32 unless a
`torch_dtype` is given, and every number below was measured that way.
`vae/` is a link to `models/small-vae/`: the pipeline decodes with the
shipped small VAE, unchanged. `scheduler/` is a `DDIMScheduler` with
Stable Diffusion v1's betas (scaled linear, {cfg.beta_start} to
{cfg.beta_end}, {cfg.num_train_timesteps} training steps) rescaled to
zero terminal SNR, v-prediction and "trailing" timesteps: three of the
four fixes of [Lin et al. 2023](https://arxiv.org/abs/2305.08891), as
the diffusers settings `rescale_betas_zero_snr`,
`prediction_type="v_prediction"` and `timestep_spacing="trailing"` (the
fourth, rescaling classifier-free guidance, is the `guidance_rescale`
argument of the pipeline call, off by default). At zero SNR the last
timestep's input is pure noise, so predicting the noise would say nothing
about the image; predicting v does. `clip_sample` is off. With Stable
Diffusion's betas unchanged, the last training timestep keeps
{sd_last:.2%} of the signal's variance (`alphas_cumprod[-1]` =
{sd_last:.5f}), a trace that sampling from pure noise cannot supply; in a
first run of the training script with those betas, every sample took its
colours from the starting noise rather than from the prompt (that run's
weights were not kept).

Load it with the real diffusers call; nothing is downloaded:

```python
import torch
from diffusers import DiffusionPipeline

pipe = DiffusionPipeline.from_pretrained("models/tiny-sd")
image = pipe(
    "a photo of a brick wall",
    num_inference_steps=20,
    guidance_scale={ev.GUIDANCE:g},
    generator=torch.Generator().manual_seed(0),
).images[0]  # a 128x128 PIL image
```

Each component also loads on its own, for example
`UNet2DConditionModel.from_pretrained("models/tiny-sd", subfolder="unet")`.

## Tokenizer and text encoder

The tokenizer is a `CLIPTokenizer` whose byte-level BPE vocabulary was
learned from the captions below by `infralens/tiny_pipeline.py`
({len(tok):,} tokens: 512 byte symbols, {n_merges} merges, start and end),
saved both as `tokenizer.json` and in CLIP's own `vocab.json` +
`merges.txt`. Every caption word is one token; an unknown word falls back
to smaller pieces, most of which never occur in the captions. It reads at most
{tok.model_max_length} tokens, start and end included: diffusers cuts a
longer prompt and logs a warning; InfraLens' evaluation refuses one
instead (`check_prompt` in `infralens/tiny_pipeline.py`).

The text encoder is a `CLIPTextModel` ({text_cfg.num_hidden_layers}
layers, width {text_cfg.hidden_size}) **trained from random
initialisation, jointly with the UNet**; it has never seen text other than
these captions.

## Training

`python scripts/train_pipeline.py` reproduces the weights from seed
{log["seed"]} on a 2-core CPU (its training loop took
{log["train_seconds"] / 60:.1f} minutes):
{log["steps"]:,} AdamW steps of batch {log["batch"]}
({log["samples_seen"]:,} samples), learning rate {log["lr"]:g} with
{log["warmup"]} warm-up steps and cosine decay. Data: {log["crops"]:,}
crops of {log["crop"]}x{log["crop"]} pixels, {log["crops_per_image"]} from
each of the {len(TRAINING_IMAGES)} training images of the small VAE
(full, half and quarter size where the shorter side stays at least
{log["crop"]} px, random flips; `{HELD_OUT}` is held out),
encoded once; each step samples the VAE posterior and multiplies it by
the VAE's `scaling_factor` ({log["vae_scaling_factor"]}). Objective:
v-prediction (mean squared error against
v = sqrt(a) x noise - sqrt(1 - a) x latents, diffusers'
`get_velocity`) at timesteps drawn uniformly from the schedule above,
with {log["caption_dropout"]:.0%} of the captions replaced by the empty
prompt so that classifier-free guidance has an unconditional model.
Loss: {first["loss"]} over the first {first["step"]} steps,
{last["loss"]} over the last {last["step"] - log["history"][-2]["step"]}.

Each image has two descriptions, each in the four phrasings
{templates}:

| image | descriptions |
|---|---|
{captions}

## Evaluation

**Prompt adherence.** For each training image, the caption "a photo of"
+ its first description is generated with seeds {ev.SEEDS[0]} to
{ev.SEEDS[-1]} ({ev.STEPS} DDIM steps, 128x128). Each sample is shrunk to
{ev.THUMB}x{ev.THUMB} pixels (area average) and compared, by Euclidean
distance, with the same thumbnails of every 128-pixel crop of every
training image (a 32-pixel grid at the training sizes, mirrored too). The
sample counts as correct when its nearest crop belongs to the caption's
own image. Chance is 1 in {len(ev.names())} ({chance:.0%}).

| guidance scale | correct | top-1 |
|---|---|---|
{sweep_rows}

At guidance {ev.GUIDANCE:g}, per caption:

| image | caption | samples matched to it |
|---|---|---|
{per_image}

**Denoising error on held-out latents.** The held-out cat at 128x192
(latents 4x16x24, a seeded posterior sample times `scaling_factor`),
noised at each timestep with 8 seeded noise draws, empty prompt. The error
is the mean squared error of what the UNet predicts (v); the baseline
predicts zero, whose error is the mean square of v itself. At timestep
{den[-1][0]} nothing of the image is left in the input, so no model can
do much better than a guess of the average picture there.

| timestep | UNet error | predict-zero error | ratio |
|---|---|---|---|
{den_rows}

**Image-to-image.** The held-out cat through
`StableDiffusionImg2ImgPipeline` built from the same components, empty
prompt, guidance 1, {ev.STEPS} steps, seed 0. PSNR against the input falls
as the strength rises and more of the picture is redrawn from noise.

| strength | PSNR vs input, dB |
|---|---|
{i2i_rows}

## Limits

- It was trained on {len(ev.names())} pictures and the words of their
  captions, nothing else; a prompt with other words asks for something it
  has never seen.
- 128x128 samples from a 1.5M-parameter UNet are blurry; fine detail
  comes from the small VAE's decoder, which itself blurs fine texture.
- For teaching the mechanics of a pipeline: shapes, calls, guidance,
  schedulers, memory. Not for judging image quality.

<!-- --8<-- [end:card] -->

## Speed

Seconds differ from machine to machine (the site's pages show call
counts instead); `python scripts/benchmark_pipeline.py` measures these on
any machine. On the 2-core CPU that wrote this card, a guided
{ev.STEPS}-step 128x128 generation took {timing.generation_s:.2f} s:
{timing.unet_calls} UNet calls of {timing.unet_call_s * 1000:.1f} ms each
(batch 2: empty prompt and prompt), the VAE decode
{timing.decode_s * 1000:.0f} ms ({timing.decode_share:.0%} of the
generation).

## Samples

Each row: the training image (centre crop), then seeds {ev.SEEDS[0]} to
{ev.SEEDS[-1]} for its caption, guidance {ev.GUIDANCE:g}.

![Samples per caption]({SAMPLES_PNG})

The held-out cat, then image-to-image at strengths
{", ".join(str(s) for s in ev.STRENGTHS)}:

![Image-to-image of the held-out cat]({IMG2IMG_PNG})
"""


if __name__ == "__main__":
    main()
