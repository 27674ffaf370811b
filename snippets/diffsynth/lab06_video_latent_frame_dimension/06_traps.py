"""The two traps, run: latent frames decoded as a batch (and through
DiffSynth-Studio's framewise decode) instead of as one clip, and a
"video" made of images generated one by one."""

from types import SimpleNamespace

import numpy as np
import torch

from infralens import glue, save_image
from infralens.quoted import load_function
from infralens.small_vae import area_resize, psnr, to_model_input
from infralens.tiny_pipeline import load, prompt
from infralens.training_data import held_out_image
from infralens.video_vae import RANDOM_WEIGHTS, small_wan_vae

# --8<-- [start:batch]
vae = small_wan_vae()
print(RANDOM_WEIGHTS)
torch.manual_seed(0)
with torch.no_grad():
    z = vae.encode(torch.randn(1, 3, 9, 32, 32)).latent_dist.mode()
    folded = z.permute(2, 1, 0, 3, 4)  # (3, 16, 1, 4, 4): 1-frame clips
    clip = vae.decode(z).sample  # (1, 3, 9, 32, 32)
    batch = vae.decode(folded).sample  # (3, 3, 1, 32, 32)
print("latent", tuple(z.shape), "as a clip ->", tuple(clip.shape))
print("as a batch ->", tuple(batch.shape), "=", batch.shape[0], "frames")
frame0 = (batch[0, :, 0] - clip[0, :, 0]).abs().max().item()
print(f"frame 0 as a batch item vs in the clip: max |diff| {frame0:.1e}")
edited = folded.clone()
edited[0] += 0.5  # change latent frame 0 only
with torch.no_grad():
    moved = (vae.decode(edited).sample - batch).abs().amax(dim=(1, 2, 3, 4))
print(
    "latent frame 0 changed; batch items moved:",
    [f"{m:.3f}" for m in moved.tolist()],
)
# --8<-- [end:batch]

# --8<-- [start:framewise]
decode_framewise = load_function(  # DiffSynth-Studio's loop, run alone
    "diffsynth.models.wan_video_vae:WanVideoVAE.decode_framewise",
    {"torch": torch},
)
stand_in = SimpleNamespace(  # the small VAE in place of DiffSynth's VAE
    single_decode=lambda latent, device: vae.decode(latent).sample
)
with torch.no_grad():
    framewise = decode_framewise(stand_in, z, "cpu")
print(
    "DiffSynth's decode_framewise on the same latent:", tuple(framewise.shape)
)
# --8<-- [end:framewise]

# --8<-- [start:images]
pipe = load()  # the tiny text-to-image pipeline, trained
shapes = []  # what the UNet is given at each call
pipe.unet.register_forward_hook(
    lambda mod, args, out: shapes.append(tuple(args[0].shape))
)
text = prompt("coffee")
with torch.no_grad():
    frames = pipe(
        [text] * 5,
        generator=[torch.Generator().manual_seed(s) for s in range(5)],
        num_inference_steps=10,
        guidance_scale=3.0,
        output_type="pt",
    ).images  # (5, 3, 128, 128) in [0, 1]: one image per "frame"
print(f"{text!r}, 5 frames, one seed each; UNet input {shapes[0]}")
# a synthetic pan: a crop sliding `step` pixels a frame across one photo
rgb = area_resize(held_out_image(), 128, 148)
step = 4
pan = torch.cat(
    [to_model_input(rgb[:, x : x + 128]) for x in range(0, 20, step)]
)
generated = frames * 2 - 1  # to [-1, 1] like the pan
steps = {"generated one by one": generated, "a pan across a photo": pan}
for name, clip_frames in steps.items():
    pairs = zip(clip_frames[:-1], clip_frames[1:], strict=True)
    gaps = [psnr(a, b) for a, b in pairs]  # each frame vs the next
    steps[name] = gaps
    print(
        f"{name}: PSNR frame to next frame",
        ", ".join(f"{g:.1f}" for g in gaps),
        "dB",
    )
# --8<-- [end:images]
unet_calls = list(shapes)

# --8<-- [start:still]
with torch.no_grad():
    still = pipe(
        [text] * 2,
        generator=[torch.Generator().manual_seed(0) for _ in range(2)],
        num_inference_steps=10,
        guidance_scale=3.0,
        output_type="pt",
    ).images  # two "frames" from the same seed
same = torch.equal(still[0], still[1])
print("same seed for both frames; identical images:", same)
# --8<-- [end:still]

# --8<-- [start:strip]
rows = [generated, pan]
strip = np.concatenate(
    [
        np.concatenate([((f + 1) / 2).permute(1, 2, 0) for f in r], 1)
        for r in rows
    ]
)
gen_gaps, pan_gaps = steps.values()
save_image(
    strip,
    "frames_one_by_one.png",
    alt="Two rows of five 128 by 128 frames. Top: five images the tiny "
    f"text-to-image pipeline made for {text!r}, one seed each; they are "
    "five unrelated pictures, consecutive frames "
    f"{min(gen_gaps):.1f} to {max(gen_gaps):.1f} dB apart. Bottom: five "
    "frames of a slow pan across the held-out cat photo, consecutive "
    f"frames {min(pan_gaps):.1f} to {max(pan_gaps):.1f} dB apart.",
)
# --8<-- [end:strip]

assert clip.shape[2] == 9 and batch.shape[0] * batch.shape[2] == 3
assert framewise.shape[2] == 3
assert frame0 < 1e-5  # the first chunk is computed the same way
assert moved[0] > 0 and (moved[1:] == 0).all()  # no coupling left
assert same  # one seed per clip: a still picture
assert all(s[0] == 10 and len(s) == 4 for s in unet_calls)  # 5 x 2 (guidance)
assert max(gen_gaps) + 3 < min(pan_gaps)  # generated frames are unrelated
glue("clip_frames", clip.shape[2])
glue("batch_frames", batch.shape[0])
glue("framewise_frames", framewise.shape[2])
glue("unet_input", str(shapes[0]))
glue("gen_low", f"{min(gen_gaps):.1f}")
glue("gen_high", f"{max(gen_gaps):.1f}")
glue("pan_low", f"{min(pan_gaps):.1f}")
glue("pan_high", f"{max(pan_gaps):.1f}")
glue("subject", text)
glue("pan_step", step)
