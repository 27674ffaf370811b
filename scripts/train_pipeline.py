"""Train the tiny text-to-image pipeline shipped in models/tiny-sd.

Usage: python scripts/train_pipeline.py [--steps N] [--out DIR]

Data: 128x128 crops of the small VAE's packaged training images (the
held-out cat is never used), at full, half and quarter size, the same
number of crops per image, encoded once with the shipped small VAE.
Each training step samples the VAE posterior of a batch of crops and
scales it by the VAE's scaling_factor (the latents Stable Diffusion's UNet
sees), picks one of the image's captions (10% are dropped to "" so that
classifier-free guidance has an unconditional model), adds noise at a
uniformly drawn timestep of Stable Diffusion's schedule rescaled to zero
terminal SNR, and trains the UNet and the text encoder together to
predict the velocity v = sqrt(a) * noise - sqrt(1 - a) * latents (mean
squared error). The finished folder is a StableDiffusionPipeline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infralens import small_vae, tiny_pipeline  # noqa: E402
from infralens.training_data import (  # noqa: E402
    TRAINING_IMAGES,
    image_path,
    load_rgb,
)

SEED = 20261126
CROP = 128
LEVELS = (1.0, 0.5, 0.25)
CROPS_PER_IMAGE = 128  # --crops-per-image (fewer: quick test runs)
CAPTION_DROPOUT = 0.1


def crop_latents(vae, gen, per_image=CROPS_PER_IMAGE):
    """(mean, std, image index) of the VAE posterior of every crop."""
    crops, owner = [], []
    for idx, img in enumerate(TRAINING_IMAGES):
        rgb = load_rgb(image_path(img))
        h, w, _ = rgb.shape
        levels = []
        for s in LEVELS:
            hh, ww = int(h * s), int(w * s)
            if min(hh, ww) >= CROP:
                arr = small_vae.area_resize(rgb, hh, ww) if s != 1 else rgb
                levels.append(small_vae.to_model_input(arr)[0])
        for k in range(per_image):
            t = levels[k % len(levels)]
            _, hh, ww = t.shape
            y = torch.randint(hh - CROP + 1, (1,), generator=gen).item()
            x = torch.randint(ww - CROP + 1, (1,), generator=gen).item()
            c = t[:, y : y + CROP, x : x + CROP]
            if torch.rand(1, generator=gen).item() < 0.5:
                c = c.flip(2)
            crops.append(c)
            owner.append(idx)
    means, stds = [], []
    with torch.no_grad():
        for i in range(0, len(crops), 16):
            post = vae.encode(torch.stack(crops[i : i + 16])).latent_dist
            means.append(post.mean)
            stds.append(post.std)
    return torch.cat(means), torch.cat(stds), torch.tensor(owner)


def caption_ids(tokenizer):
    """Token ids of every caption, padded as the pipeline pads prompts;
    row 0 is the empty prompt, then each image's captions."""
    texts = [""]
    rows = []
    for img in TRAINING_IMAGES:
        caps = tiny_pipeline.captions(img.name)
        rows.append(list(range(len(texts), len(texts) + len(caps))))
        texts += caps
    for t in texts:
        tiny_pipeline.check_prompt(tokenizer, t)
    ids = tokenizer(
        texts,
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids
    return ids, rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--out", type=Path, default=tiny_pipeline.MODEL_DIR)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--crops-per-image", type=int, default=CROPS_PER_IMAGE)
    args = ap.parse_args(argv)

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)

    from diffusers import DDIMScheduler, DDPMScheduler, StableDiffusionPipeline

    vae = small_vae.load()
    scale = vae.config.scaling_factor
    t0 = time.perf_counter()
    mean, std, owner = crop_latents(vae, gen, args.crops_per_image)
    encode_seconds = time.perf_counter() - t0
    tokenizer = tiny_pipeline.build_tokenizer()
    ids, caption_rows = caption_ids(tokenizer)
    text_encoder, unet = tiny_pipeline.new_models(len(tokenizer))
    noise_schedule = DDPMScheduler(**tiny_pipeline.SCHEDULE)
    params = [*text_encoder.parameters(), *unet.parameters()]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-2)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        p = (step - args.warmup) / max(1, args.steps - args.warmup)
        return 1e-5 + (args.lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * p))

    n_unet = sum(p.numel() for p in unet.parameters())
    n_text = sum(p.numel() for p in text_encoder.parameters())
    print(
        f"crops: {len(owner)} from {len(TRAINING_IMAGES)} images "
        f"(encoded in {encode_seconds:.1f} s), captions: {len(ids) - 1}, "
        f"vocabulary: {len(tokenizer)}, unet: {n_unet:,}, "
        f"text encoder: {n_text:,} parameters"
    )
    history, window = [], []
    t0 = time.perf_counter()
    unet.train()
    text_encoder.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        pick = torch.randint(len(owner), (args.batch,), generator=gen)
        eps_post = torch.randn(mean[pick].shape, generator=gen)
        latents = (mean[pick] + std[pick] * eps_post) * scale
        rows = []
        for i in owner[pick].tolist():
            if torch.rand(1, generator=gen).item() < CAPTION_DROPOUT:
                rows.append(0)
            else:
                choices = caption_rows[i]
                k = torch.randint(len(choices), (1,), generator=gen).item()
                rows.append(choices[k])
        noise = torch.randn(latents.shape, generator=gen)
        t = torch.randint(
            noise_schedule.config.num_train_timesteps,
            (args.batch,),
            generator=gen,
        )
        noisy = noise_schedule.add_noise(latents, noise, t)
        emb = text_encoder(ids[rows])[0]  # (B, 16, 64)
        target = noise_schedule.get_velocity(latents, noise, t)
        pred = unet(noisy, t, encoder_hidden_states=emb).sample
        loss = torch.mean((pred - target) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        window.append(loss.item())
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            row = dict(
                step=step + 1,
                loss=round(sum(window) / len(window), 4),
                lr=round(lr_at(step), 6),
                seconds=round(time.perf_counter() - t0, 1),
            )
            window = []
            history.append(row)
            print(json.dumps(row), flush=True)
    train_seconds = time.perf_counter() - t0

    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder.eval(),
        tokenizer=tokenizer,
        unet=unet.eval(),
        scheduler=DDIMScheduler(**tiny_pipeline.SAMPLER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    save(pipe, args.out)
    log = dict(
        seed=SEED,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        warmup=args.warmup,
        crops=len(owner),
        crops_per_image=args.crops_per_image,
        crop=CROP,
        levels=LEVELS,
        caption_dropout=CAPTION_DROPOUT,
        vae_scaling_factor=scale,
        train_seconds=round(train_seconds, 1),
        samples_seen=args.steps * args.batch,
        history=history,
        torch=torch.__version__,
    )
    (args.out / "training_log.json").write_text(json.dumps(log, indent=1))
    print(f"saved to {args.out} after {train_seconds / 60:.1f} min")


def save(pipe, out: Path):
    """Write the pipeline folder. The UNet's weights are stored in float16
    (diffusers loads them as float32 unless asked otherwise) to keep the
    folder small; the VAE folder is a link to models/small-vae, so the
    pipeline uses the shipped VAE byte for byte."""
    out.mkdir(parents=True, exist_ok=True)
    vae_dir = out / "vae"
    if vae_dir.is_symlink():
        vae_dir.unlink()
    pipe.unet.to(torch.float16)
    pipe.save_pretrained(out, safe_serialization=True)
    pipe.unet.to(torch.float32)
    # CLIP's own tokenizer files beside transformers' tokenizer.json
    vocab, merges = tiny_pipeline.learn_bpe(tiny_pipeline.all_captions())
    tok_dir = out / "tokenizer"
    (tok_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    (tok_dir / "merges.txt").write_text("\n".join(lines) + "\n")
    shutil.rmtree(vae_dir)  # the copy save_pretrained wrote
    rel = os.path.relpath(small_vae.MODEL_DIR, out)
    vae_dir.symlink_to(rel, target_is_directory=True)


if __name__ == "__main__":
    main()
