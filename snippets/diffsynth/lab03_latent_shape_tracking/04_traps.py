"""Shape traps, run: frames folded into batch, and an image latent handed
to a model that expects a video latent."""

import textwrap

import numpy as np
import torch
from diffusers import AutoencoderKLWan

from infralens import glue, save_image
from infralens.small_vae import area_resize, load, psnr, to_model_input
from infralens.training_data import held_out_image

vae = load()  # the small image VAE, trained
rgb = area_resize(held_out_image(), 128, 256)  # (128, 256, 3) in [0, 1]
clip = [to_model_input(rgb[:, x : x + 192]) for x in (0, 20, 40, 60)]
video = torch.stack(clip, dim=2)  # (1, 3, 4, 128, 192): a slow pan

# --8<-- [start:fold]
B, C, F, H, W = video.shape
right = video.permute(0, 2, 1, 3, 4).reshape(B * F, C, H, W)  # (B*F, C, ..)
wrong = video.reshape(B * F, C, H, W)  # same shape, no error


def round_trip(frames):  # an image VAE run on each "image" of the batch
    with torch.no_grad():
        z = vae.encode(frames).latent_dist.mode()  # (B*F, 4, H/8, W/8)
        return vae.decode(z).sample.clamp(-1, 1)


back_right = round_trip(right).reshape(B, F, C, H, W).permute(0, 2, 1, 3, 4)
back_wrong = round_trip(wrong).reshape(B, C, F, H, W)
print("right and wrong batches:", tuple(right.shape), tuple(wrong.shape))
seen = [f"{psnr(w, r):.1f}" for w, r in zip(wrong, right, strict=True)]
print("PSNR of each image the VAE saw vs its frame:", ", ".join(seen), "dB")
print(f"video back, right fold: {psnr(back_right, video):.1f} dB")
print(f"video back, wrong fold: {psnr(back_wrong, video):.1f} dB")
# --8<-- [end:fold]

assert torch.equal(wrong[0], video[0, 0, :3])  # red plane of frames 0-2
assert psnr(back_right, video) > psnr(back_wrong, video) + 3
glue("fold_right", f"{psnr(back_right, video):.1f}")
glue("fold_wrong", f"{psnr(back_wrong, video):.1f}")
glue("fold_seen", ", ".join(seen[:-1]) + " and " + seen[-1])

# --8<-- [start:fold_figure]
rows = [right, wrong]  # what the VAE was given, frame by frame
strip = np.concatenate(
    [
        np.concatenate([((f + 1) / 2).permute(1, 2, 0) for f in r], 1)
        for r in rows
    ]
)
save_image(
    strip,
    "frames_folded_right_then_wrong.png",
    alt=f"Two rows of {F} images, each {H} by {W}. Top: the frames of a "
    "pan across the held-out cat photo, folded into the batch the right "
    "way. Bottom: the same tensor after a bare reshape; each image's red, "
    "green and blue are planes of three different frames, not one "
    "frame's three colours, so its colours are false and its edges "
    "ghosted. PSNR of each bottom image against its frame: "
    f"{', '.join(seen)} dB.",
)
# --8<-- [end:fold_figure]

# --8<-- [start:video_fold]
torch.manual_seed(0)
video_vae = AutoencoderKLWan(  # Wan 2.1's architecture, tiny widths
    base_dim=8,
    z_dim=16,
    num_res_blocks=1,
    latents_mean=[0.0] * 16,
    latents_std=[1.0] * 16,
).eval()
print("video VAE: RANDOM WEIGHTS, only shapes are the point")
clip9 = torch.randn(1, 3, 9, 32, 32)  # (B, C, F, H, W)
as_batch = clip9.permute(2, 1, 0, 3, 4)  # (F, C, 1, H, W): 9 one-frame clips
with torch.no_grad():
    z_clip = video_vae.encode(clip9).latent_dist.mode()
    z_batch = video_vae.encode(as_batch).latent_dist.mode()
print("one clip of 9 frames ->", tuple(z_clip.shape))
print("9 frames as a batch  ->", tuple(z_batch.shape))
tokens_clip = z_clip.shape[2] * (z_clip.shape[3] // 2) * (z_clip.shape[4] // 2)
tokens_each = z_batch.shape[3] // 2 * (z_batch.shape[4] // 2)
print(f"DiT tokens (2x2 patches): one sequence of {tokens_clip}, or")
print(f"{z_batch.shape[0]} sequences of {tokens_each} that never meet")
# --8<-- [end:video_fold]

assert z_clip.shape[2] == 3 and z_batch.shape[0] == 9
glue("clip_latent", str(tuple(z_clip.shape)))
glue("batch_latent", str(tuple(z_batch.shape)))


# --8<-- [start:rank]
def attempt(label, fn):
    try:
        out = fn()
        print(f"{label}: ok, {tuple(out.shape)}")
    except Exception as err:  # show the failure, not a traceback
        print(f"{label}: {type(err).__name__}")
        for line in textwrap.wrap(str(err), 72, max_lines=2):
            print("   ", line)


image_latent = z_clip[:, :, 0]  # (1, 16, 4, 4): rank 4, no frame axis
with torch.no_grad():
    attempt("decode (1, 16, 4, 4)", lambda: video_vae.decode(image_latent))
    attempt(
        "unsqueeze(1)",
        lambda: video_vae.decode(image_latent.unsqueeze(1)),  # (1, 1, 16, ..)
    )
    attempt(
        "unsqueeze(2)",
        lambda: video_vae.decode(image_latent.unsqueeze(2)).sample,
    )  # (1, 16, 1, 4, 4): a one-frame video
    attempt(
        "image VAE on (1, 4, 2, 16, 24)",
        lambda: vae.decode(torch.randn(1, 4, 2, 16, 24)),
    )
# --8<-- [end:rank]
