"""Train the two small ControlNets shipped in models/tiny-controlnet-*.

Usage: python scripts/train_controlnets.py [--steps N] [--out-root DIR]

Each ControlNet starts as ``ControlNetModel.from_unet(unet)`` from the UNet
of models/tiny-sd (its encoder half copied, its zero convolutions at
zero), and is trained on its own while the UNet, text encoder and VAE stay
frozen. Data: 128x128 crops of the same packaged images the pipeline was
trained on (the held-out cat is never used), encoded once with the small
VAE; each crop's control image is computed from its pixels
(infralens.controls: the 16x16 brightness map, or the 8x8 mean-colour
layout). Each
step samples the VAE posterior, noises it at a uniform timestep, runs the
ControlNet on the noisy latents, the caption (10% dropped to "") and the
control image, adds its residuals to the frozen UNet, and minimises the
velocity error, as the pipeline was trained. Two numbers check that the
control is used: the same held-out batch's error with the control image
and with an all-black one. Weights are saved in float16.
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

from infralens import controls, small_vae, tiny_pipeline  # noqa: E402
from infralens.training_data import (  # noqa: E402
    TRAINING_IMAGES,
    image_path,
    load_rgb,
)

SEED = 20261127
CROP = 128
LEVELS = (1.0, 0.5)
CROPS_PER_IMAGE = 24
CAPTION_DROPOUT = 0.1
VALIDATION = 64  # crops kept aside for the with / without control check
# Steps and peak learning rate of each ControlNet.
STEPS = {"tone": 500, "layout": 500}
LR = {"tone": 2e-3, "layout": 2e-3}


def crops(gen, per_image=CROPS_PER_IMAGE):
    """(pixels in [0, 1], image index) of every training crop."""
    out, owner = [], []
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
            out.append(c)
            owner.append(idx)
    pixels = (torch.stack(out) + 1) / 2  # VAE input [-1, 1] -> [0, 1]
    return pixels.clamp(0, 1), torch.tensor(owner)


def caption_ids(tokenizer):
    """Row 0: the empty prompt; then each image's captions."""
    texts, rows = [""], []
    for img in TRAINING_IMAGES:
        caps = tiny_pipeline.captions(img.name)
        rows.append(list(range(len(texts), len(texts) + len(caps))))
        texts += caps
    ids = tokenizer(
        texts,
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids
    return ids, rows


def velocity_error(unet, net, schedule, batch, cond_scale=1.0):
    """Mean squared velocity error of one batch (no gradients)."""
    with torch.no_grad():
        return step_loss(unet, net, schedule, batch, cond_scale).item()


def step_loss(unet, net, schedule, batch, cond_scale=1.0):
    latents, emb, cond, noise, t = batch
    noisy = schedule.add_noise(latents, noise, t)
    down, mid = net(
        noisy,
        t,
        encoder_hidden_states=emb,
        controlnet_cond=cond,
        conditioning_scale=cond_scale,
        return_dict=False,
    )
    pred = unet(
        noisy,
        t,
        encoder_hidden_states=emb,
        down_block_additional_residuals=down,
        mid_block_additional_residual=mid,
    ).sample
    target = schedule.get_velocity(latents, noise, t)
    return torch.mean((pred - target) ** 2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None, help="all nets")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--out-root", type=Path, default=None)
    ap.add_argument("--only", choices=controls.CONTROLS, default=None)
    args = ap.parse_args(argv)

    torch.manual_seed(SEED)
    # one thread: on a shared 2-core machine, two threads that wait for
    # each other can cost many times the processor time per step
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    from diffusers import ControlNetModel, DDPMScheduler

    pipe = tiny_pipeline.load()
    unet, text_encoder, vae = pipe.unet, pipe.text_encoder, pipe.vae
    for m in (unet, text_encoder, vae):
        m.requires_grad_(False).eval()
    schedule = DDPMScheduler(**tiny_pipeline.SCHEDULE)
    scale = vae.config.scaling_factor

    gen = torch.Generator().manual_seed(SEED)
    t0, c0 = time.perf_counter(), time.process_time()
    pixels, owner = crops(gen)
    maps = controls.control_maps(pixels)
    with torch.no_grad():
        posts = [
            vae.encode(pixels[i : i + 16] * 2 - 1).latent_dist
            for i in range(0, len(pixels), 16)
        ]
    mean = torch.cat([p.mean for p in posts])
    std = torch.cat([p.std for p in posts])
    ids, caption_rows = caption_ids(pipe.tokenizer)
    with torch.no_grad():
        caption_emb = text_encoder(ids)[0]  # (captions + 1, 16, 64)
    prep_seconds = time.perf_counter() - t0
    prep_cpu = time.process_time() - c0
    order = torch.randperm(len(owner), generator=gen)
    val_idx, train_idx = order[:VALIDATION], order[VALIDATION:]

    def draw(idx, cond):
        eps = torch.randn(mean[idx].shape, generator=gen)
        latents = (mean[idx] + std[idx] * eps) * scale
        rows = []
        for i in owner[idx].tolist():
            if torch.rand(1, generator=gen).item() < CAPTION_DROPOUT:
                rows.append(0)
            else:
                ch = caption_rows[i]
                rows.append(ch[torch.randint(len(ch), (1,), generator=gen)])
        noise = torch.randn(latents.shape, generator=gen)
        t = torch.randint(
            schedule.config.num_train_timesteps, (len(idx),), generator=gen
        )
        return latents, caption_emb[rows], cond[idx], noise, t

    names = [args.only] if args.only else list(controls.CONTROLS)
    out_root = args.out_root or controls.ROOT / "models"
    for name in names:
        # each net draws from its own generator: training one alone
        # (--only) gives the same weights as training both in one run
        k = controls.CONTROLS.index(name)
        gen.manual_seed(SEED + 1 + k)
        torch.manual_seed(SEED + 1 + k)
        steps = args.steps or STEPS[name]
        lr = LR[name]
        net = ControlNetModel.from_unet(
            unet,
            conditioning_embedding_out_channels=controls.EMBEDDING_CHANNELS,
        )
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0)

        def lr_at(step, lr=lr, steps=steps):
            if step < args.warmup:
                return lr * (step + 1) / args.warmup
            p = (step - args.warmup) / max(1, steps - args.warmup)
            return lr * 0.5 * (1 + math.cos(math.pi * p))

        cond = maps[name]
        val = draw(val_idx, cond)
        blank = (*val[:2], torch.zeros_like(val[2]), *val[3:])
        history, window = [], []
        t1, c1 = time.perf_counter(), time.process_time()
        for step in range(steps):
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            pick = train_idx[
                torch.randint(len(train_idx), (args.batch,), generator=gen)
            ]
            loss = step_loss(unet, net, schedule, draw(pick, cond))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            window.append(loss.item())
            if (step + 1) % args.log_every == 0 or step + 1 == steps:
                row = dict(
                    step=step + 1,
                    loss=round(sum(window) / len(window), 4),
                    seconds=round(time.perf_counter() - t1, 1),
                )
                window = []
                history.append(row)
                print(name, json.dumps(row), flush=True)
        train_seconds = time.perf_counter() - t1
        train_cpu = time.process_time() - c1
        net.eval()
        check = dict(
            with_control=velocity_error(unet, net, schedule, val),
            black_control=velocity_error(unet, net, schedule, blank),
            no_controlnet=velocity_error(unet, net, schedule, val, 0.0),
        )
        check = {k: round(v, 4) for k, v in check.items()}
        print(name, "validation velocity error:", check, flush=True)
        out = out_root / f"tiny-controlnet-{name}"
        net.to(torch.float16).save_pretrained(out, safe_serialization=True)
        log = dict(
            control=name,
            seed=SEED,
            steps=steps,
            batch=args.batch,
            lr=lr,
            warmup=args.warmup,
            crops=len(train_idx),
            validation_crops=len(val_idx),
            crops_per_image=CROPS_PER_IMAGE,
            crop=CROP,
            levels=LEVELS,
            caption_dropout=CAPTION_DROPOUT,
            embedding_channels=controls.EMBEDDING_CHANNELS,
            layout_cell=controls.LAYOUT_CELL,
            tone_cell=controls.TONE_CELL,
            parameters=sum(p.numel() for p in net.parameters()),
            prep_seconds=round(prep_seconds, 1),
            train_seconds=round(train_seconds, 1),
            prep_cpu_seconds=round(prep_cpu, 1),
            train_cpu_seconds=round(train_cpu, 1),
            validation=check,
            history=history,
            torch=torch.__version__,
        )
        (out / "training_log.json").write_text(json.dumps(log, indent=1))
        print(f"saved {out} after {train_seconds / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
