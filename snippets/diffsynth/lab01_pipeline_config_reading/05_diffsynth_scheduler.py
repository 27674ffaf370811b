"""DiffSynth-Studio's DDIM scheduler, run from its installed file, against
the tiny pipeline's scheduler_config.json; then the tiny UNet driven by
it, once with the folder's settings and once with DiffSynth's defaults."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler

from infralens import glue, save_image
from infralens.small_vae import psnr, to_rgb
from infralens.tiny_pipeline import MODEL_DIR, load

# --8<-- [start:isolated]
DIFFSYNTH = Path(
    importlib.util.find_spec("diffsynth").submodule_search_locations[0]
)  # found, not imported: importing diffsynth fails on this machine


def diffsynth_file(relative):
    """Execute one installed DiffSynth-Studio file on its own."""
    path = DIFFSYNTH / relative
    names = {"__name__": f"diffsynth_isolated.{path.stem}"}
    exec(compile(path.read_text(), str(path), "exec"), names)
    return names


DDIM = diffsynth_file("diffusion/ddim_scheduler.py")["DDIMScheduler"]
# --8<-- [end:isolated]

# --8<-- [start:compare]
path = MODEL_DIR / "scheduler" / "scheduler_config.json"
folder = json.loads(path.read_text())
ds = DDIM()  # what DiffSynth's StableDiffusionPipeline builds
snr0 = ds.alphas_cumprod[-1] == 0
rows = [
    ("prediction_type", ds.prediction_type, folder["prediction_type"]),
    ("zero terminal SNR", snr0, folder["rescale_betas_zero_snr"]),
    ("timestep_spacing", "(no such field)", folder["timestep_spacing"]),
]
print(f"{'':<20}{'DiffSynth default':<20}this folder")
for name, theirs, ours in rows:
    print(f"{name:<20}{theirs!s:<20}{ours}")
ds.set_timesteps(20)
t = [int(x) for x in ds.timesteps]
print("DiffSynth, 20 steps:", t[:3], "...", t[-1])
ours = DDIMScheduler.from_config(folder)  # diffusers, this folder's config
ours.set_timesteps(20)
u = [int(x) for x in ours.timesteps]
print("diffusers, 20 steps:", u[:3], "...", u[-1])
last = float(ours.final_alpha_cumprod)
print(f"diffusers' last step goes to alphas_cumprod[0] = {last:.5f}")
# --8<-- [end:compare]

pipe = load()
unet, vae = pipe.unet, pipe.vae
prompt, g, steps = "a photo of a brick wall", 3.0, 20

# --8<-- [start:loop]
with torch.no_grad():
    posi, nega = pipe.encode_prompt(prompt, "cpu", 1, True)  # (1, 16, 64)


def generate(scheduler):
    """DiffSynth's loop shape: two UNet calls per step, then step()."""
    scheduler.set_timesteps(steps)
    noise = torch.randn((1, 4, 16, 16), generator=torch.manual_seed(0))
    latents = noise  # (1, 4, 16, 16)
    with torch.no_grad():
        for t in scheduler.timesteps:
            t = t.unsqueeze(0)
            p = unet(latents, t, encoder_hidden_states=posi).sample
            n = unet(latents, t, encoder_hidden_states=nega).sample
            latents = scheduler.step(n + g * (p - n), t, latents)
        return vae.decode(latents / vae.config.scaling_factor).sample


matched = generate(
    DDIM(prediction_type="v_prediction", rescale_zero_terminal_snr=True)
)
default = generate(DDIM())
reference = pipe(
    prompt,
    num_inference_steps=steps,
    guidance_scale=g,
    generator=torch.manual_seed(0),
    output_type="pt",
).images  # diffusers, same seed: (1, 3, 128, 128) in [0, 1]
reference = reference * 2 - 1  # to [-1, 1], like the VAE's output
db = {}
for name, x in (("matched", matched), ("default", default)):
    db[name] = psnr(reference, x.clamp(-1, 1))
    print(f"DiffSynth scheduler, {name:<8} vs diffusers: {db[name]:5.1f} dB")
row = torch.cat([reference, matched, default], dim=3)  # side by side
save_image(
    to_rgb(row),
    "diffusers_diffsynth_matched_diffsynth_default.png",
    alt=f"Three images of '{prompt}': diffusers' pipeline; DiffSynth's "
    f"scheduler with the folder's settings, {db['matched']:.1f} dB from the "
    f"first; DiffSynth's scheduler with its defaults, {db['default']:.1f} dB.",
)
# --8<-- [end:loop]


# --8<-- [start:gap]
class OnDiffusersGrid(DDIM):
    """DiffSynth's DDIM update, on diffusers' timesteps and last step."""

    def set_timesteps(self, num_inference_steps, **kwargs):
        ours.set_timesteps(num_inference_steps)
        self.timesteps = ours.timesteps  # trailing, as diffusers spaces them

    def step(self, model_output, timestep, sample, to_final=False):
        t = int(timestep)
        prev = t - ours.config.num_train_timesteps // len(self.timesteps)
        a_prev = self.alphas_cumprod[prev] if prev >= 0 else last
        a_t = self.alphas_cumprod[t]  # DiffSynth's own schedule
        return self.denoise(model_output, sample, a_t, a_prev)


aligned = generate(
    OnDiffusersGrid(
        prediction_type="v_prediction", rescale_zero_terminal_snr=True
    )
)
db["aligned"] = psnr(reference, aligned.clamp(-1, 1))
print(f"DiffSynth update, diffusers' grid: {db['aligned']:5.1f} dB")
# --8<-- [end:gap]
p_matched, p_default = db["matched"], db["default"]
assert ds.prediction_type == "epsilon" and ds.alphas_cumprod[-1] > 0
assert p_matched > p_default + 5
assert np.isfinite(p_default)
assert db["aligned"] > p_matched + 30  # the grid and last step were the gap
assert t[1] != u[1] and t[-1] == 0 < u[-1] and last < 1
glue("ds_first", int(ds.timesteps[0]))
glue("ds_last", int(ds.timesteps[-1]))
glue("ds_signal", f"{ds.alphas_cumprod[-1]:.5f}")
glue("psnr_matched", f"{p_matched:.1f}")
glue("psnr_default", f"{p_default:.1f}")
glue("psnr_aligned", f"{db['aligned']:.0f}")
glue("ds_second", t[1])
glue("df_first", u[0])
glue("df_second", u[1])
glue("df_last", u[-1])
glue("df_final_alpha", f"{last:.5f}")
