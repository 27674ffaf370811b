"""Measurements of the tiny pipeline: the model card's numbers and the
evaluation that the "tiny pipeline" page runs again in every build.

- Prompt adherence: samples for each training image's caption are matched
  to their nearest training crop (16x16 thumbnails, Euclidean distance);
  a sample counts as correct when that crop comes from the caption's own
  image. Chance is one in the number of images.
- Denoising error: the UNet's prediction error on the held-out cat's
  latents at several timesteps, against predicting zero.
- Image-to-image: the held-out cat through the real img2img pipeline at
  several strengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infralens import small_vae, tiny_pipeline
from infralens.training_data import TRAINING_IMAGES, image_path, load_rgb

SIZE = 128  # generated images are SIZE x SIZE: latents (4, 16, 16)
STEPS = 20
GUIDANCE = 3.0
SEEDS = (0, 1, 2, 3)
THUMB = 16
TIMESTEPS = (50, 250, 500, 750, 999)
STRENGTHS = (0.3, 0.5, 0.7, 0.9)


def names() -> list[str]:
    return [img.name for img in TRAINING_IMAGES]


def thumbnails(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) in [0, 1] -> (N, THUMB * THUMB * 3) area-downscaled."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    y = F.interpolate(x.float(), size=(THUMB, THUMB), mode="area")
    return y.flatten(1).numpy()


def reference_crops(stride: int = 32):
    """Thumbnails of SIZE-px crops of every training image, on a grid,
    at the training levels (full, half, quarter size), flipped too:
    (features, owner index)."""
    from infralens.small_vae import area_resize

    feats, owner = [], []
    for idx, img in enumerate(TRAINING_IMAGES):
        rgb = load_rgb(image_path(img))
        h, w, _ = rgb.shape
        for s in (1.0, 0.5, 0.25):
            hh, ww = int(h * s), int(w * s)
            if min(hh, ww) < SIZE:
                continue
            level = area_resize(rgb, hh, ww) if s != 1 else rgb
            crops = [
                level[y : y + SIZE, x : x + SIZE]
                for y in range(0, hh - SIZE + 1, stride)
                for x in range(0, ww - SIZE + 1, stride)
            ]
            crops += [c[:, ::-1] for c in crops]
            feats.append(thumbnails(np.stack(crops)))
            owner += [idx] * len(crops)
    return np.concatenate(feats), np.array(owner)


def nearest_image(samples: np.ndarray, ref) -> np.ndarray:
    """Index of the training image whose crop is nearest each sample."""
    feats, owner = ref
    q = thumbnails(samples)
    d = (q**2).sum(1)[:, None] - 2 * q @ feats.T + (feats**2).sum(1)[None]
    return owner[d.argmin(axis=1)]


def generate(pipe, prompts, seeds, guidance=GUIDANCE, steps=STEPS):
    """One image per (prompt, seed), as (N, SIZE, SIZE, 3) in [0, 1]."""
    import torch

    all_prompts = [p for p in prompts for _ in seeds]
    gens = [torch.Generator().manual_seed(s) for _ in prompts for s in seeds]
    for p in prompts:
        tiny_pipeline.check_prompt(pipe.tokenizer, p)
    out = pipe(
        all_prompts,
        height=SIZE,
        width=SIZE,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=gens,
        output_type="np",
    )
    return out.images


@dataclass(frozen=True)
class Adherence:
    guidance: float
    correct: int
    total: int
    per_image: dict  # name -> number of its samples matched to it
    predicted: list  # name of the nearest image, per sample
    images: np.ndarray  # (images, seeds, SIZE, SIZE, 3)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total


def adherence(pipe, ref=None, seeds=SEEDS, guidance=GUIDANCE) -> Adherence:
    ref = ref if ref is not None else reference_crops()
    labels = names()
    prompts = [tiny_pipeline.prompt(n) for n in labels]
    images = generate(pipe, prompts, seeds, guidance)
    pred = nearest_image(images, ref)
    truth = np.repeat(np.arange(len(labels)), len(seeds))
    per_image = {
        n: int((pred[truth == i] == i).sum()) for i, n in enumerate(labels)
    }
    return Adherence(
        guidance=guidance,
        correct=int((pred == truth).sum()),
        total=len(truth),
        per_image=per_image,
        predicted=[labels[i] for i in pred],
        images=images.reshape(len(labels), len(seeds), SIZE, SIZE, 3),
    )


def cat_latents(vae):
    """The held-out cat at 128x192 as the UNet sees it: a seeded posterior
    sample times scaling_factor, (1, 4, 16, 24)."""
    import torch

    with torch.no_grad():
        post = vae.encode(small_vae.cat_image(128, 192)).latent_dist
        z = post.sample(generator=torch.Generator().manual_seed(0))
    return z * vae.config.scaling_factor


def denoising_error(pipe, draws: int = 8):
    """Rows of (t, UNet error, predict-zero error) on the held-out cat,
    with the empty prompt (the cat has no caption), averaged over
    ``draws`` seeded noise samples. The error is measured on what the UNet
    predicts (its scheduler's ``prediction_type``: the noise, or the
    velocity v = sqrt(a) * noise - sqrt(1 - a) * latents)."""
    import torch

    latents = cat_latents(pipe.vae).repeat(draws, 1, 1, 1)
    ids = pipe.tokenizer(
        [""] * draws,
        padding="max_length",
        max_length=pipe.tokenizer.model_max_length,
        return_tensors="pt",
    ).input_ids
    sched = pipe.scheduler
    velocity = sched.config.prediction_type == "v_prediction"
    rows = []
    with torch.no_grad():
        emb = pipe.text_encoder(ids)[0]
        for t in TIMESTEPS:
            gen = torch.Generator().manual_seed(t)
            noise = torch.randn(latents.shape, generator=gen)
            tt = torch.full((draws,), t)
            noisy = sched.add_noise(latents, noise, tt)
            target = (
                sched.get_velocity(latents, noise, tt) if velocity else noise
            )
            pred = pipe.unet(noisy, tt, encoder_hidden_states=emb).sample
            rows.append(
                (
                    t,
                    torch.mean((pred - target) ** 2).item(),
                    torch.mean(target**2).item(),
                )
            )
    return rows


def img2img(pipe, prompt: str = "", guidance: float = 1.0):
    """The held-out cat through StableDiffusionImg2ImgPipeline at each of
    STRENGTHS: (the input (128, 192, 3), [(strength, image, PSNR dB)])."""
    import torch
    from diffusers import StableDiffusionImg2ImgPipeline

    i2i = StableDiffusionImg2ImgPipeline(
        **pipe.components, requires_safety_checker=False
    )
    i2i.set_progress_bar_config(disable=True)
    cat = small_vae.cat_image(128, 192)  # (1, 3, 128, 192) in [-1, 1]
    rows = []
    for s in STRENGTHS:
        out = i2i(
            prompt,
            image=(cat + 1) / 2,
            strength=s,
            num_inference_steps=STEPS,
            guidance_scale=guidance,
            generator=torch.Generator().manual_seed(0),
            output_type="pt",
        ).images
        db = small_vae.psnr(cat, out * 2 - 1)  # out is in [0, 1]
        rows.append((s, out[0].permute(1, 2, 0).numpy(), db))
    return small_vae.to_rgb(cat), rows


def grid(rows: list[list[np.ndarray]], pad: int = 2) -> np.ndarray:
    """Tile equally tall (H, W, 3) images into rows on a white ground."""
    height = rows[0][0].shape[0]
    width = max(sum(im.shape[1] + pad for im in r) + pad for r in rows)
    out = np.ones((len(rows) * (height + pad) + pad, width, 3))
    for i, r in enumerate(rows):
        x = pad
        for im in r:
            y = pad + i * (height + pad)
            out[y : y + height, x : x + im.shape[1]] = im
            x += im.shape[1] + pad
    return out


def source_thumb(name: str) -> np.ndarray:
    """A training image, centre-cropped square and resized to SIZE."""
    img = next(i for i in TRAINING_IMAGES if i.name == name)
    rgb = small_vae.center_crop(load_rgb(image_path(img)), SIZE, SIZE)
    return small_vae.area_resize(rgb, SIZE, SIZE)


def sample_grid(result: Adherence) -> np.ndarray:
    """One row per caption: the source image, then its samples."""
    return grid(
        [[source_thumb(n), *result.images[i]] for i, n in enumerate(names())]
    )


@dataclass(frozen=True)
class Timing:
    generation_s: float  # median wall time of one whole pipe(...) call
    unet_call_s: float  # median time of one UNet call inside it
    unet_calls: int
    decode_s: float  # VAE decode inside the same call
    text_s: float  # text encoder calls inside the same call

    @property
    def decode_share(self) -> float:
        return self.decode_s / self.generation_s


def time_generation(pipe, runs: int = 5, guidance: float = GUIDANCE):
    """Time a 20-step guided 128x128 generation with forward hooks on the
    real modules: medians over ``runs`` calls after one warm-up."""
    import statistics
    import time

    spans: dict[str, list[float]] = {}

    def timed(module, name):
        start = {}

        def pre(*_):
            start["t"] = time.perf_counter()

        def post(*_):
            elapsed = time.perf_counter() - start["t"]
            spans.setdefault(name, []).append(elapsed)

        return [
            module.register_forward_pre_hook(pre),
            module.register_forward_hook(post),
        ]

    handles = [
        *timed(pipe.unet, "unet"),
        *timed(pipe.vae.decoder, "decode"),
        *timed(pipe.text_encoder, "text"),
    ]
    rows = []
    try:
        for i in range(runs + 1):
            spans.clear()
            t0 = time.perf_counter()
            generate(pipe, [tiny_pipeline.prompt("brick")], (i,), guidance)
            total = time.perf_counter() - t0
            if i:
                rows.append((total, dict(spans)))
    finally:
        for h in handles:
            h.remove()
    med = statistics.median
    return Timing(
        generation_s=med(t for t, _ in rows),
        unet_call_s=med(x for _, s in rows for x in s["unet"]),
        unet_calls=len(rows[0][1]["unet"]),
        decode_s=med(sum(s["decode"]) for _, s in rows),
        text_s=med(sum(s["text"]) for _, s in rows),
    )
