"""Wall-clock cost of a tiny-pipeline generation on this CPU.

Usage: python scripts/benchmark_pipeline.py [--runs N]

Times a 20-step 128x128 generation, guided (the evaluation's scale) and
unguided, with forward hooks on
the real UNet, VAE decoder and text encoder, and prints seconds per
denoiser call, per generation, and the VAE decode's share of it (medians
after one warm-up, 2 threads). The site's pages show call counts, not
seconds: seconds change from machine to machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infralens import tiny_pipeline  # noqa: E402
from infralens.pipeline_eval import GUIDANCE, time_generation  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    pipe = tiny_pipeline.load()
    for guidance in (GUIDANCE, 1.0):
        t = time_generation(pipe, runs=args.runs, guidance=guidance)
        print(f"guidance {guidance}: {t.unet_calls} UNet calls")
        print(f"  seconds per denoiser call: {t.unet_call_s:.4f}")
        print(f"  seconds per generation:    {t.generation_s:.3f}")
        print(
            f"  VAE decode:                {t.decode_s:.4f} s "
            f"({t.decode_share:.0%} of the generation)"
        )
        print(f"  text encoder:              {t.text_s:.4f} s")


if __name__ == "__main__":
    main()
