"""The frame rule: 1 + 4k frames in, 1 + k latent frames, 1 + 4k frames
out; what the encoder sees per call, and DiffSynth-Studio's rounding and
latent frame count, run from its installed source."""

from types import SimpleNamespace

import torch

from infralens import glue
from infralens.quoted import assigned_keywords, load_function
from infralens.video_vae import RANDOM_WEIGHTS, small_wan_vae

# --8<-- [start:rule]
vae = small_wan_vae()
print(RANDOM_WEIGHTS)
calls = []  # frames the encoder module receives on each call
vae.encoder.register_forward_hook(
    lambda mod, args, out: calls.append(args[0].shape[2])
)
rows = {}
print("frames in  latent frames  frames out  frames per encoder call")
for frames in (1, 4, 5, 8, 9, 12, 13):
    calls.clear()
    video = torch.randn(1, 3, frames, 16, 16)  # (B, C, F, H, W)
    with torch.no_grad():
        z = vae.encode(video).latent_dist.mode()  # (B, 16, 1 + k, 2, 2)
        out = vae.decode(z).sample  # (B, 3, 1 + 4k, 16, 16)
    rows[frames] = (z.shape[2], out.shape[2], list(calls))
    print(f"{frames:>9}  {z.shape[2]:>13}  {out.shape[2]:>10}  {calls}")
# --8<-- [end:rule]

# --8<-- [start:diffsynth]
# DiffSynth-Studio cannot be imported here (requirements-quoted.txt says
# why): two of its functions are read from the installed files and run
# on their own, with stand-ins for the objects they are handed.
snap = load_function(
    "diffsynth.diffusion.base_pipeline:BasePipeline.check_resize_height_width"
)
noise_unit = load_function(
    "diffsynth.pipelines.wan_video:WanVideoUnit_NoiseInitializer.process",
    {"torch": torch},
)
factors = assigned_keywords(  # what WanVideoPipeline passes to its base
    "diffsynth.pipelines.wan_video:WanVideoPipeline.__init__",
    "super().__init__",
)
pipe = SimpleNamespace(  # the attributes the two functions read
    **factors,
    vae=SimpleNamespace(model=SimpleNamespace(z_dim=16), upsampling_factor=8),
    generate_noise=lambda shape, seed, rand_device: torch.zeros(shape),
)
print(
    "time factor and remainder:",
    factors["time_division_factor"],
    factors["time_division_remainder"],
)
ds = {}
print("asked  DiffSynth frames  noise latent (B, C, F, H, W)")
for asked in (1, 4, 5, 8, 9, 12, 13):
    _, _, n = snap(pipe, 480, 832, asked, verbose=0)
    noise = noise_unit(None, pipe, 480, 832, n, 0, "cpu", None, None)
    ds[asked] = (n, noise["noise"].shape[2])
    print(f"{asked:>5}  {n:>16}  {tuple(noise['noise'].shape)}")
# --8<-- [end:diffsynth]

for frames, (latent, back, seen) in rows.items():
    assert latent == 1 + (frames - 1) // 4 and back == 1 + 4 * (latent - 1)
    assert seen == [1] + [4] * (latent - 1)  # first frame alone, then 4s
for asked, (n, latent) in ds.items():
    assert (n - 1) % 4 == 0 and n >= asked and n - asked < 4  # rounds up
    assert latent == rows[n][0]  # DiffSynth's noise = the VAE's latent
glue("nine_latent", rows[9][0])
glue("thirteen_latent", rows[13][0])
glue("four_latent", rows[4][0])
glue("four_out", rows[4][1])
glue("eight_out", rows[8][1])
glue("eight_ds", ds[8][0])
glue("four_ds", ds[4][0])
glue("eight_ds_latent", ds[8][1])
glue("thirteen_calls", ", ".join(map(str, rows[13][2])))
glue("t_factor", vae.config.scale_factor_temporal)
glue("s_factor", vae.config.scale_factor_spatial)
glue("z_channels", vae.config.z_dim)
glue("ds_upsampling", pipe.vae.upsampling_factor)
glue("ds_z_dim", pipe.vae.model.z_dim)
glue("small_base_dim", vae.config.base_dim)
glue("small_res_blocks", vae.config.num_res_blocks)
