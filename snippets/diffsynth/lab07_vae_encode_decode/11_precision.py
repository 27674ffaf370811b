"""Precision: bfloat16 versus float32 decode, the float16 ceiling, and
which diffusers pipelines read force_upcast."""

from pathlib import Path

import diffusers
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from infralens import glue
from infralens.small_vae import cat_image, load, psnr

vae = load()
SD1 = ("", "_img2img", "_inpaint")  # text-to-image, image-to-image, inpaint
with torch.no_grad():
    z = vae.encode(cat_image()).latent_dist.mode()  # (1, 4, 16, 24)

# --8<-- [start:bf16]
with torch.no_grad():
    ref = vae.decode(z).sample  # float32
    vae_bf16 = load(dtype=torch.bfloat16)
    low = vae_bf16.decode(z.to(torch.bfloat16)).sample.float()
print(f"max |bf16 - fp32|: {(low - ref).abs().max():.4f}")
print(f"PSNR bf16 vs fp32: {psnr(ref.clamp(-1, 1), low.clamp(-1, 1)):.1f} dB")
# --8<-- [end:bf16]


# --8<-- [start:peaks]
class Largest(TorchDispatchMode):  # sees every tensor any op produces
    value = 0.0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.is_floating_point():
                if t.numel():
                    self.value = max(self.value, t.abs().max().item())
        return out


peaks = {}  # the largest |output| of every module that runs


def record(name):
    def hook(module, args, out):
        peaks[name] = max(peaks.get(name, 0.0), out.abs().max().item())

    return hook


for name, module in vae.named_modules():
    if name:  # every module, containers and leaves alike
        module.register_forward_hook(record(name))
with torch.no_grad(), Largest() as largest:
    vae.decode(z)
top = sorted(peaks.items(), key=lambda kv: -kv[1])[:3]
fp16_max = torch.finfo(torch.float16).max
for name, value in top:
    print(f"{name:<34} peak |output| {value:8.1f}")
print(f"any tensor of the decode, largest |value|: {largest.value:8.1f}")
print(f"float16 largest finite value: {fp16_max:,.0f}")
# --8<-- [end:peaks]

# --8<-- [start:upcast]
package = Path(diffusers.__file__).parent
vae_code = package / "models/autoencoders/autoencoder_kl.py"
own = ".force_upcast" in vae_code.read_text(encoding="utf-8")
print("AutoencoderKL's own code reads force_upcast:", own)
pipelines = package / "pipelines"
readers = sorted(
    f.relative_to(pipelines).as_posix()
    for f in pipelines.rglob("*.py")
    if "force_upcast" in f.read_text(encoding="utf-8")
)
sdxl = [r for r in readers if "xl" in r or "kolors" in r]
print(f"pipeline files that read force_upcast: {len(readers)}")
print(f"  SDXL family (xl or kolors in the path): {len(sdxl)}")
print("  the others:")
for r in readers:
    if r not in sdxl:
        print("   ", r)
sd1 = [f"stable_diffusion/pipeline_stable_diffusion{s}.py" for s in SD1]
n_sd1 = sum(f in readers for f in sd1)
print(f"SD 1.x text-to-image, image-to-image, inpaint: {n_sd1} of 3")
# --8<-- [end:upcast]

assert top[0][1] <= largest.value < fp16_max
assert not own and n_sd1 == 0 and all((pipelines / f).is_file() for f in sd1)
assert len(sdxl) > len(readers) / 2
glue("bf16_psnr", f"{psnr(ref.clamp(-1, 1), low.clamp(-1, 1)):.1f}")
glue("peak_act", f"{largest.value:.0f}")
glue("peak_module", top[0][0])
glue("fp16_max", f"{fp16_max:,.0f}")
glue("upcast_readers", len(readers))
glue("upcast_sdxl", len(sdxl))
glue("upcast_others", len(readers) - len(sdxl))
