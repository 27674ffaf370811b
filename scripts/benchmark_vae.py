"""Wall-clock time of each stage of an img2img-shaped call on this CPU.

Usage: python scripts/benchmark_vae.py

Times (median of 10 after 2 warm-ups, 2 threads) VAE encode, one scheduler
step, and VAE decode for the shipped small VAE at three sizes. Pages show
operation counts instead, because times differ from build to build.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffusers import DDIMScheduler  # noqa: E402

from infralens.small_vae import load  # noqa: E402


def median_ms(fn, runs=10, warmup=2) -> float:
    times = []
    for i in range(runs + warmup):
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    vae = load()
    sched = DDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012
    )
    sched.set_timesteps(20)
    t = sched.timesteps[8]
    print(
        f"{'size':>9} {'encode ms':>10} {'sched step ms':>14} "
        f"{'decode ms':>10}"
    )
    with torch.no_grad():
        for h, w in ((128, 192), (256, 256), (512, 512)):
            x = torch.randn(1, 3, h, w)
            z = vae.encode(x).latent_dist.mode()
            enc = median_ms(lambda x=x: vae.encode(x))
            step = median_ms(lambda z=z: sched.step(z, t, z))
            dec = median_ms(lambda z=z: vae.decode(z))
            print(f"{h:>4}x{w:<4} {enc:>10.1f} {step:>14.2f} {dec:>10.1f}")


if __name__ == "__main__":
    main()
