"""Measure the shipped small VAE against its bars and write its model card.

Usage: python scripts/evaluate_vae.py [--no-card]

Prints held-out PSNR for chelsea at several sizes, the std of scaled
latents over the packaged image set (and chelsea's own), parameter counts,
file size, and the encode+decode time of a 256x256 image on this CPU
(median of 20 runs after 3 warm-ups, 2 threads). Then writes
models/small-vae/README.md from these numbers and training_log.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infralens import small_vae  # noqa: E402
from infralens.training_data import TRAINING_IMAGES  # noqa: E402

WEIGHTS = "diffusion_pytorch_model.safetensors"
# Sources the card cites, pinned to the commits whose lines it names.
LD = "https://github.com/CompVis/latent-diffusion/blob/a506df5756472e2ebaf9078affdde2c4f1502cd4"
SD = "https://github.com/CompVis/stable-diffusion/blob/21f890f9da3cfbeaba8e2ac3c425ee9e998d5229"
TAESD = "https://github.com/madebyollin/taesd/blob/5cccb12dc72074a4be35680c3b108548a7c69978/README.md?plain=1#L90-L91"


def time_round_trip(vae, runs: int = 20) -> float:
    x = torch.randn(1, 3, 256, 256)
    times = []
    with torch.no_grad():
        for i in range(runs + 3):
            t0 = time.perf_counter()
            vae.decode(vae.encode(x).latent_dist.mode())
            if i >= 3:
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def card(ev, counts, size_mb, seconds, log, load=None) -> str:
    enc, dec = counts
    rows = "\n".join(
        f"| {r['size']} | {r['psnr']:.2f} | {r['std_mode']:.3f} | "
        f"{r['std_sample']:.3f} |"
        for r in ev["rows"]
    )
    std_rows = "\n".join(
        f"| {r['size']} | {r['set_images']} | {r['std_set']:.3f} | "
        f"{r['std_set_min']:.3f} (`{r['std_set_min_image']}`) to "
        f"{r['std_set_max']:.3f} (`{r['std_set_max_image']}`) | "
        f"{r['std_sample']:.3f} |"
        for r in ev["rows"]
    )
    off = [r["size"] for r in ev["rows"] if abs(r["std_sample"] - 1) > 0.1]
    in_bar = all(abs(r["std_set"] - 1) <= 0.1 for r in ev["rows"])
    std_sentence = (
        "The set's std is "
        + (
            "within 1 +/- 0.1 at every size"
            if in_bar
            else "NOT within 1 +/- 0.1"
        )
        + "; one image's std spreads widely around it"
        + (
            f", and `chelsea` alone is outside 1 +/- 0.1 at {', '.join(off)}."
            if off
            else "."
        )
    )
    images = "\n".join(
        f"| `{i.name}` | {i.package} | {i.license} |" for i in TRAINING_IMAGES
    )
    arch = small_vae.ARCHITECTURE
    blocks = len(arch["block_out_channels"])
    busy = (
        f", whose 1-minute load average was {load[0]:.1f} on {load[1]} "
        "cores while it ran"
        if load
        else ""
    )
    kl_factor = 3 * log["crop"] * log["crop"]  # pixel values per crop
    sb = log["scaling_batch"]
    return f"""# InfraLens small VAE

A diffusers `AutoencoderKL` in the Stable Diffusion VAE's shape, small
enough to run on a laptop CPU ("Held-out quality" below gives the measured
round-trip time). It exists so that every InfraLens page can run a real,
trained VAE offline. This card is written by `scripts/evaluate_vae.py`;
every number about this model was measured; the SD column is cited.

## Architecture

| | this model | SD 1.x VAE (kl-f8) |
|---|---|---|
| blocks (down / up) | {blocks} / {blocks} | 4 / 4 |
| block_out_channels | {arch["block_out_channels"]} | [128, 256, 512, 512] |
| layers_per_block | {arch["layers_per_block"]} | 2 |
| latent channels | {arch["latent_channels"]} | 4 |
| spatial factor | x{2 ** (len(arch["block_out_channels"]) - 1)} | x8 |
| GroupNorm groups | {arch["norm_num_groups"]} | 32 |
| mid-block attention | {arch["mid_block_add_attention"]} | True |
| encoder parameters | {enc:,} | 34,163,592 |
| decoder parameters | {dec:,} | 49,490,179 |

SD column: the layout from Stable Diffusion's first-stage config
([v1-inference.yaml]({SD}/configs/stable-diffusion/v1-inference.yaml#L53-L63))
and Latent Diffusion's GroupNorm
([`Normalize`]({SD}/ldm/modules/diffusionmodules/model.py#L38-L39));
parameter counts from the [TAESD README]({TAESD}), which InfraLens'
handbook recomputes from that layout. Weights: `{WEIGHTS}`,
{size_mb:.1f} MB, float32.

Load it with the real diffusers call; nothing is downloaded:

```python
from diffusers import AutoencoderKL

vae = AutoencoderKL.from_pretrained("models/small-vae")
```

## Training

`python scripts/train_vae.py` reproduces the weights from seed
{log["seed"]} on a 2-core CPU: {log["steps"]:,} Adam steps, batch
{log["batch"]} of {log["crop"]}x{log["crop"]} random crops (flips and
channel shuffles) from an area-downscaled pyramid of the images below,
loss = MSE + {log["kl_weight"]:g} x KL, no adversarial or perceptual loss.
The MSE is a mean over every pixel value; the KL divergence from a unit
Gaussian is summed over each image's latent and averaged over the batch.
{log["kl_weight"]:g} is the `kl_weight` of Latent Diffusion's
KL-autoencoder configs (the kl-f8 one:
[autoencoder_kl_32x32x4.yaml]({LD}/configs/autoencoder/autoencoder_kl_32x32x4.yaml#L11)),
but it does not carry the same meaning here: Latent Diffusion sums its
reconstruction loss (L1 plus a perceptual term) over the 3 x H x W values
of each image
([contperceptual.py]({LD}/ldm/modules/losses/contperceptual.py#L48-L60)),
while this script averages it, so the same weight gives the KL term about
{kl_factor:,} times (3 x {log["crop"]} x {log["crop"]}) more weight per
pixel than a loss summed over the crop, as Latent Diffusion's is (before
Latent Diffusion's learned log-variance rescaling, and with L1 + LPIPS
rather than MSE). Training took
{log["train_seconds"] / 60:.1f} minutes.

| image | ships in | license |
|---|---|---|
{images}

`chelsea` (the cat) is held out: it is the evaluation image and never
appears in training.

## Scaling factor

`scaling_factor = {ev["scaling_factor"]}`, measured as Latent Diffusion's
`scale_by_std` does: {sb["images"]} training crops of {sb["crop"]}x{sb["crop"]}
were encoded, the posterior sampled, and the std of all latent numbers was
{sb["latent_std"]}; the factor is 1 / std.

The factor is a statistic of a set of images, so it is checked on a set:
every packaged image (the {len(TRAINING_IMAGES)} training images and
`chelsea`) centre-cropped to the size's aspect and area-resized (images
smaller than the size are skipped), one seeded posterior sample each.

| size | images | std of all scaled latents | one image's std | `chelsea` |
|---|---|---|---|---|
{std_rows}

{std_sentence} A scale measured on a batch keeps the *distribution* of
latents near unit variance; it does not normalize each image.

## Held-out quality

`chelsea`, area-downscaled, encoded with the posterior mode and decoded:

| size | PSNR (dB) | std of `chelsea`'s scaled latent (mode) | (sample) |
|---|---|---|---|
{rows}

Encode + decode of one 256x256 image: {seconds * 1000:.0f} ms (median of
20, 2 threads) on the machine that wrote this card{busy}.

## Limitations

- Trained on {len(TRAINING_IMAGES)} photographs and textures for minutes: it
  reconstructs shapes and colour well and blurs fine texture (fur, text).
  It is a teaching model, not a replacement for a production VAE.
- Its scaling factor belongs to these weights and this data; it is not
  interchangeable with Stable Diffusion's 0.18215.
- The tiny text-to-image pipeline in `models/tiny-sd/` was trained on its
  latents and decodes with it.
"""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-card", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    torch.manual_seed(0)
    vae = small_vae.load()
    ev = small_vae.evaluate(vae)
    enc = sum(p.numel() for p in vae.encoder.parameters())
    dec = sum(p.numel() for p in vae.decoder.parameters())
    size_mb = (small_vae.MODEL_DIR / WEIGHTS).stat().st_size / 1e6
    seconds = time_round_trip(vae)
    load = (os.getloadavg()[0], os.cpu_count())  # other work slows timing
    total = sum(p.numel() for p in vae.parameters())
    print(
        f"parameters: encoder {enc:,}, decoder {dec:,}, "
        f"total with the quant convs {total:,}"
    )
    print(f"weights file: {size_mb:.2f} MB (bar: <= 16 MB)")
    for r in ev["rows"]:
        print(
            f"{r['size']:>8}: chelsea PSNR {r['psnr']:.2f} dB, scaled std "
            f"mode {r['std_mode']:.3f} / sample {r['std_sample']:.3f}; "
            f"image set ({r['set_images']}) scaled std {r['std_set']:.3f} "
            f"(one image: {r['std_set_min']:.3f} to {r['std_set_max']:.3f})"
        )
    print(
        "bar: chelsea PSNR at 128x192 >= 24 dB; image-set scaled std "
        "within 1 +/- 0.1"
    )
    print(f"encode+decode 256x256: {seconds * 1000:.1f} ms (bar: <= 250 ms)")
    log = json.loads((small_vae.MODEL_DIR / "training_log.json").read_text())
    print(
        f"training: {log['steps']} steps in {log['train_seconds'] / 60:.1f}"
        " min (bar: <= 60 min)"
    )
    if not args.no_card:
        text = card(ev, (enc, dec), size_mb, seconds, log, load)
        (small_vae.MODEL_DIR / "README.md").write_text(text)
        print(f"wrote {small_vae.MODEL_DIR / 'README.md'}")


if __name__ == "__main__":
    main()
