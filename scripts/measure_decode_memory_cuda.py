"""Measure the Stable Diffusion VAE's decode memory on a CUDA GPU.

Usage: python scripts/measure_decode_memory_cuda.py [--sizes 256 512 ...]
       [--dtypes float32 float16] [--out data/sd_vae_decode_cuda.json]

For each dtype and image size: build Stable Diffusion 1.x's VAE layout
(random weights: memory does not depend on their values) on the GPU, make
a random latent, empty the cache, reset the peak statistics, note the
memory allocated before the decode (weights and latent), decode twice
under no_grad, and record the peak allocated minus that baseline (the
decode's own activations and workspaces), the peak reserved by PyTorch's
caching allocator, and the warm decode time. Beside each row goes the
meta-device estimate that the handbook prints
(``infralens.memory.peak_bytes`` on the same layout built on meta).

Writes one JSON file with the GPU's name and the torch and diffusers
versions. Needs CUDA; exits with an error without it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infralens.memory import peak_bytes  # noqa: E402

MiB = 2**20
SD_VAE = dict(  # Stable Diffusion 1.x's VAE layout (LDM's kl-f8)
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    latent_channels=4,
)
OUT = ROOT / "data" / "sd_vae_decode_cuda.json"


def meta_estimate(px: int, dtype: torch.dtype) -> float:
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL(**SD_VAE).eval().to(dtype)
    z = torch.empty(1, 4, px // 8, px // 8, device="meta", dtype=dtype)
    return peak_bytes(vae.decode, z) / MiB


def measure(px: int, dtype: torch.dtype) -> dict:
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(**SD_VAE).eval().to("cuda", dtype)
    z = torch.randn(1, 4, px // 8, px // 8, device="cuda", dtype=dtype)
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    times = []
    with torch.no_grad():
        for _ in range(2):
            t0 = time.perf_counter()
            vae.decode(z)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    row = dict(
        dtype=str(dtype).removeprefix("torch."),
        px=px,
        peak_mib=round((torch.cuda.max_memory_allocated() - base) / MiB, 1),
        reserved_mib=round(torch.cuda.max_memory_reserved() / MiB, 1),
        estimate_mib=round(meta_estimate(px, dtype), 1),
        warm_decode_ms=round(times[-1] * 1000, 1),
    )
    row["ratio"] = round(row["peak_mib"] / row["estimate_mib"], 2)
    del vae, z
    torch.cuda.empty_cache()
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048]
    )
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float16"])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("CUDA is not available: nothing to measure")
    import diffusers

    rows = []
    for name in args.dtypes:
        for px in args.sizes:
            row = measure(px, getattr(torch, name))
            print(json.dumps(row), flush=True)
            rows.append(row)
    record = dict(
        gpu=torch.cuda.get_device_name(),
        torch=torch.__version__,
        diffusers=diffusers.__version__,
        date=datetime.date.today().isoformat(),
        produced_by="scripts/measure_decode_memory_cuda.py",
        method=(
            "peak_mib: max_memory_allocated during two decodes minus "
            "memory_allocated before them (weights and latent excluded); "
            "reserved_mib: max_memory_reserved; estimate_mib: "
            "infralens.memory.peak_bytes on the meta device"
        ),
        rows=rows,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
