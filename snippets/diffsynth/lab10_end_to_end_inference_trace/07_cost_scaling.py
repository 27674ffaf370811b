"""Where the cost goes as steps and image size change: floating-point
operations per component call (counted on the meta device, checked against
a real call) and activation peaks (measured on real calls)."""

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from infralens import glue
from infralens.memory import PeakMemory
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, trained weights

# --8<-- [start:count]
with torch.device("meta"):  # (1)!
    meta_unet = UNet2DConditionModel.from_config(pipe.unet.config)
    meta_vae = AutoencoderKL.from_config(pipe.vae.config)


def cost(size, unet, vae, device):
    """(GFLOP, peak MiB) of one guided UNet call and of one decode."""
    n = size // 8  # latent side
    text = torch.zeros(2, 16, 64, device=device)  # (2, tokens, width)
    x = torch.zeros(2, 4, n, n, device=device)  # guided batch of two
    z = torch.zeros(1, 4, n, n, device=device)
    t = torch.tensor(999, device=device)
    out = []
    for fn, args in ((unet, (x, t, text)), (vae.decode, (z,))):
        flops = FlopCounterMode(display=False)
        with torch.no_grad(), flops, PeakMemory() as memory:
            fn(*args)
        out.append((flops.get_total_flops() / 1e9, memory.peak / 2**20))
    return out


with sdpa_kernel(SDPBackend.MATH):  # (2)!
    real_math = cost(128, pipe.unet, pipe.vae, "cpu")
meta = cost(128, meta_unet, meta_vae, "meta")
print("meta count == real call, math attention, 128 px:", meta == real_math)
real = cost(128, pipe.unet, pipe.vae, "cpu")  # the CPU attention kernel
print(
    f"UNet peak: {real_math[0][1]:.2f} MiB with math attention, "
    f"{real[0][1]:.2f} MiB with the kernel the pipeline uses"
)
print(
    f"UNet GFLOP counted: {real_math[0][0]:.3f} with math attention, "
    f"{real[0][0]:.3f} with the fused kernel"
)
# --8<-- [end:count]

# --8<-- [start:flops]
print(" size  unet GFLOP  decoder GFLOP  decoder / unet")
flop = {}
for size in (64, 128, 256, 512):
    (u, _), (d, _) = cost(size, meta_unet, meta_vae, "meta")
    flop[size] = (u, d)
    print(f"{size:>5}{u:>12.3f}{d:>15.3f}{d / u:>16.1f}")
u, d = flop[128]
share = {steps: d / (d + steps * u) for steps in (1, 4, 10, 20, 50)}
print("decoder share of a 128 px call's arithmetic, by steps:")
print("  " + ", ".join(f"{k}: {v:.0%}" for k, v in share.items()))
# --8<-- [end:flops]

# --8<-- [start:memory]
print(" size  unet MiB  decoder MiB")
peak = {}
for size in (64, 128, 256):
    (_, u_mib), (_, d_mib) = peak[size] = cost(
        size, pipe.unet, pipe.vae, "cpu"
    )
    print(f"{size:>5}{u_mib:>10.2f}{d_mib:>13.2f}")
# --8<-- [end:memory]

assert meta == real_math and real[0][1] < real_math[0][1]
assert real[0][0] < real_math[0][0]  # the fused kernel is not counted
assert all(peak[s][1][1] > peak[s][0][1] for s in peak)
glue("dec_per_unet", f"{d / u:.0f}")
glue("share_1", f"{100 * share[1]:.0f}")
glue("share_10", f"{100 * share[10]:.0f}")
glue("share_50", f"{100 * share[50]:.0f}")
glue("unet_math_mib", f"{real_math[0][1]:.2f}")
glue("unet_real_mib", f"{real[0][1]:.2f}")
ratio = [d_mib / u_mib for (_, u_mib), (_, d_mib) in peak.values()]
assert max(ratio) / min(ratio) < 1.05  # the same at every size
assert 3.9 < peak[256][1][1] / peak[128][1][1] < 4.1  # x2 side, x4 bytes
glue("peak_ratio", f"{ratio[0]:.1f}")
