"""Video VAEs: frames in, latent frames out, chunk by chunk (Wan-style);
how diffusers' and DiffSynth-Studio's Wan pipelines snap frame counts."""

import logging
from types import SimpleNamespace

import torch
from diffusers import (
    AutoencoderKLCogVideoX,
    AutoencoderKLHunyuanVideo,
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.utils import logging as diffusers_logging

from infralens import glue
from infralens.memory import peak_bytes
from infralens.quoted import assigned_keywords, load_function

# --8<-- [start:model]
torch.manual_seed(0)
vae = AutoencoderKLWan(  # Wan 2.1's architecture, tiny widths
    base_dim=8,
    z_dim=4,
    num_res_blocks=1,
    latents_mean=[0.0] * 4,
    latents_std=[1.0] * 4,
).eval()
print("RANDOM WEIGHTS: shapes and memory only, no pictures")
chunks = []  # frames the encoder sees on each call
vae.encoder.register_forward_hook(
    lambda mod, args, kwargs, out: chunks.append(args[0].shape[2]),
    with_kwargs=True,
)
# --8<-- [end:model]

# --8<-- [start:frames]
results = {}
for frames in (1, 5, 8, 9, 17):
    chunks.clear()
    video = torch.randn(1, 3, frames, 32, 32)  # (B, C, F, H, W)
    with torch.no_grad():
        z = vae.encode(video).latent_dist.mode()
        back = vae.decode(z).sample
    results[frames] = (z.shape[2], back.shape[2])
    print(
        f"{frames:>2} frames -> z {tuple(z.shape)} -> {back.shape[2]:>2} "
        f"frames out; encoder chunks {chunks}"
    )
# --8<-- [end:frames]

# --8<-- [start:passes]
VIDEO_VAES = {  # diffusers' default configs, built on meta: no weights
    "Wan 2.1": AutoencoderKLWan,
    "CogVideoX": AutoencoderKLCogVideoX,
    "HunyuanVideo": AutoencoderKLHunyuanVideo,
    "LTX-Video": AutoencoderKLLTXVideo,
}
passes = {}
print("frames per encoder call, 33 frames in (default settings):")
for name, cls in VIDEO_VAES.items():
    with torch.device("meta"):
        big = cls()
    seen = passes[name] = []  # one entry per call of the encoder module
    big.encoder.register_forward_hook(
        lambda mod, args, kwargs, out, seen=seen: seen.append(
            args[0].shape[2]
        ),
        with_kwargs=True,
    )
    clip = torch.empty(1, 3, 33, 256, 256, device="meta")
    with torch.no_grad():
        big.encode(clip)
    print(f"  {name:<13} {seen}")
# --8<-- [end:passes]

# --8<-- [start:pipeline]
transformer = WanTransformer3DModel(  # tiny, random: only shapes matter
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=8,
    in_channels=4,
    out_channels=4,
    text_dim=16,
    freq_dim=16,
    ffn_dim=16,
    num_layers=1,
).eval()
pipe = WanPipeline(  # the real pipeline class, with the tiny VAE above
    tokenizer=None,
    text_encoder=None,  # prompt embeddings are passed in directly
    vae=vae,
    scheduler=FlowMatchEulerDiscreteScheduler(),
    transformer=transformer,
)
pipe.set_progress_bar_config(disable=True)
warned = []  # what the pipeline logs


class Keep(logging.Handler):
    def emit(self, record):
        warned.append(record.getMessage())


logging.getLogger(WanPipeline.__module__).addHandler(Keep())
diffusers_logging.disable_default_handler()  # not on stderr too
# --8<-- [end:pipeline]

# --8<-- [start:rules]
# DiffSynth-Studio cannot be imported here (requirements-quoted.txt says
# why): its function is read from the installed file and run on its own.
snap = load_function(
    "diffsynth.diffusion.base_pipeline:BasePipeline.check_resize_height_width"
)
wan_video = SimpleNamespace(  # the factors WanVideoPipeline passes up
    **assigned_keywords(
        "diffsynth.pipelines.wan_video:WanVideoPipeline.__init__",
        "super().__init__",
    )
)
print("DiffSynth-Studio's rule, run from", snap.label)
print("asked  diffusers WanPipeline       DiffSynth-Studio")
rows, messages = {}, set()
for asked in range(5, 14):
    warned.clear()
    with torch.no_grad():
        out = pipe(
            prompt_embeds=torch.zeros(1, 4, 16),
            num_frames=asked,
            height=16,
            width=16,
            num_inference_steps=1,
            guidance_scale=1.0,
            output_type="pt",
        ).frames  # (1, frames, 3, 16, 16)
    _, _, ds = snap(wan_video, 16, 16, asked, verbose=0)
    rows[asked] = (out.shape[1], ds)
    messages.update(warned)
    note = "(warned)" if warned else ""
    print(f"{asked:>5}  {out.shape[1]:>3} frames out {note:<9}  {ds:>6}")
print("diffusers warned:", *sorted(messages))
# --8<-- [end:rules]

# --8<-- [start:memory]
for frames in (1, 5, 9, 17, 33):
    video = torch.randn(1, 3, frames, 64, 64)
    mib = peak_bytes(vae.encode, video) / 2**20
    print(f"encode {frames:>2} frames of 64x64: peak {mib:6.2f} MiB")
# --8<-- [end:memory]

assert results[9] == (3, 9) and results[17] == (5, 17)
assert results[8] == (2, 5)  # frames 6-8 never reach the latent
assert passes["Wan 2.1"][0] == 1 and set(passes["Wan 2.1"][1:]) == {4}
assert passes["LTX-Video"] == [33]  # the whole clip in one call
assert len(passes["CogVideoX"]) > 1 and len(passes["HunyuanVideo"]) > 1
assert rows[8] == (9, 9)  # both round 8 up to 9
differ = [n for n, (a, b) in rows.items() if a != b]
assert differ and all(rows[n][0] < rows[n][1] for n in differ)
glue("eight_latent", results[8][0])
glue("eight_out", results[8][1])
glue("eight_diffusers", rows[8][0])
glue("eight_diffsynth", rows[8][1])
glue("differ", ", ".join(map(str, differ)))
glue("six_diffusers", rows[6][0])
glue("six_diffsynth", rows[6][1])
glue("ltx_calls", len(passes["LTX-Video"]))
glue("wan_calls", len(passes["Wan 2.1"]))
