"""Train the small VAE shipped in models/small-vae from a fixed seed.

Usage: python scripts/train_vae.py [--steps N] [--out DIR]

Data: the packaged images listed in infralens/training_data.py (chelsea is
held out). Loss: mean squared error (a mean over pixel values) plus
1e-6 x KL (summed over each image's latent, averaged over the batch).
1e-6 is the kl_weight of Latent Diffusion's KL-autoencoder configs, but
Latent Diffusion sums its reconstruction loss over the pixel values of
each image; against the mean used here the same weight gives the KL about
3 x 64 x 64 = 12,288 times more weight per pixel (before Latent
Diffusion's learned log-variance rescaling, and with its L1 + LPIPS loss
rather than MSE). After training, scaling_factor
is measured as Latent Diffusion's scale_by_std does it: 1 / std of
posterior samples of a batch.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infralens import small_vae  # noqa: E402
from infralens.training_data import (  # noqa: E402
    TRAINING_IMAGES,
    held_out_image,
    image_path,
    load_rgb,
)

SEED = 20261124
SCALES = (1.0, 0.75, 0.5, 0.375, 0.25)
KL_WEIGHT = 1e-6


def build_pyramid():
    tiles = []
    for img in TRAINING_IMAGES:
        rgb = load_rgb(image_path(img))
        h, w, _ = rgb.shape
        for s in SCALES:
            hh, ww = int(h * s), int(w * s)
            if min(hh, ww) < 96:
                continue
            arr = small_vae.area_resize(rgb, hh, ww) if s != 1.0 else rgb
            tiles.append(torch.from_numpy(arr).permute(2, 0, 1) * 2 - 1)
    return tiles


def sample_batch(tiles, batch, crop, gen):
    tiles = [t for t in tiles if min(t.shape[1:]) >= crop]
    out = []
    for _ in range(batch):
        t = tiles[torch.randint(len(tiles), (1,), generator=gen).item()]
        _, h, w = t.shape
        y = torch.randint(h - crop + 1, (1,), generator=gen).item()
        x = torch.randint(w - crop + 1, (1,), generator=gen).item()
        c = t[:, y : y + crop, x : x + crop]
        if torch.rand(1, generator=gen).item() < 0.5:
            c = c.flip(2)
        if torch.rand(1, generator=gen).item() < 0.5:
            c = c[torch.randperm(3, generator=gen)]
        out.append(c)
    return torch.stack(out)


@torch.no_grad()
def held_out_psnr(vae):
    rgb = small_vae.area_resize(held_out_image(), 128, 192)
    x = small_vae.to_model_input(rgb)
    z = vae.encode(x).latent_dist.mode()
    y = vae.decode(z).sample.clamp(-1, 1)
    return small_vae.psnr(x, y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=small_vae.MODEL_DIR)
    ap.add_argument("--log-every", type=int, default=250)
    args = ap.parse_args(argv)

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)

    tiles = build_pyramid()
    vae = small_vae.new_model()
    opt = torch.optim.Adam(vae.parameters(), lr=args.lr)
    warmup = 200

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        p = (step - warmup) / max(1, args.steps - warmup)
        return 1e-5 + (args.lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * p))

    n_enc = sum(p.numel() for p in vae.encoder.parameters())
    n_all = sum(p.numel() for p in vae.parameters())
    print(
        f"training images: {len(TRAINING_IMAGES)}, pyramid tiles: "
        f"{len(tiles)}, parameters: {n_all:,} (encoder {n_enc:,})"
    )
    history = []
    t0 = time.perf_counter()
    vae.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x = sample_batch(tiles, args.batch, args.crop, gen)
        post = vae.encode(x).latent_dist
        rec = vae.decode(post.sample(generator=gen)).sample
        mse = torch.mean((rec - x) ** 2)
        kl = post.kl().mean()
        loss = mse + KL_WEIGHT * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            vae.eval()
            p = held_out_psnr(vae)
            vae.train()
            row = dict(
                step=step + 1,
                mse=round(mse.item(), 5),
                kl=round(kl.item(), 1),
                heldout_psnr=round(p, 2),
                seconds=round(time.perf_counter() - t0, 1),
            )
            history.append(row)
            print(json.dumps(row), flush=True)
    train_seconds = time.perf_counter() - t0

    # Latent Diffusion's scale_by_std: encode one training batch, sample
    # the posterior, scaling_factor = 1 / std of all latent numbers.
    vae.eval()
    with torch.no_grad():
        batch_gen = torch.Generator().manual_seed(SEED + 1)
        x = sample_batch(tiles, 64, 128, batch_gen)
        z = vae.encode(x).latent_dist.sample(generator=batch_gen)
        std = z.flatten().std().item()
    scaling_factor = round(1.0 / std, 5)
    print(
        f"scaling_factor: posterior samples of a batch of 64 crops "
        f"128x128 have std {std:.5f}; 1 / std = {scaling_factor}"
    )
    vae.register_to_config(scaling_factor=scaling_factor)

    args.out.mkdir(parents=True, exist_ok=True)
    vae.save_pretrained(args.out, safe_serialization=True)
    log = dict(
        seed=SEED,
        steps=args.steps,
        batch=args.batch,
        crop=args.crop,
        lr=args.lr,
        kl_weight=KL_WEIGHT,
        scales=SCALES,
        train_seconds=round(train_seconds, 1),
        scaling_batch=dict(images=64, crop=128, latent_std=round(std, 5)),
        scaling_factor=scaling_factor,
        history=history,
        torch=torch.__version__,
    )
    (args.out / "training_log.json").write_text(json.dumps(log, indent=1))
    print(f"saved to {args.out} after {train_seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
