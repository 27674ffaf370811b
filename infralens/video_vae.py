"""A small video VAE in Wan 2.1's shape, for pages about the frame axis.

diffusers' ``AutoencoderKLWan`` with Wan 2.1's blocks (causal 3D
convolutions, x8 spatial and x4 temporal compression, a per-chunk feature
cache) at tiny widths. Its weights are RANDOM: nothing in this repository
trains it, so it is fit for shapes, for which frames reach which, and for
memory, never for pictures. Every page that uses it says so beside it;
``RANDOM_WEIGHTS`` is the line snippets print.

``rss_growth`` measures how much this process's resident memory grows
while a call runs, to hold ``infralens.memory``'s count against.
"""

from __future__ import annotations

import gc

RANDOM_WEIGHTS = "RANDOM WEIGHTS: shapes, frame reach and memory only"

# Wan 2.1's architecture (AutoencoderKLWan's defaults) with base_dim 96
# cut to 8 and two residual blocks per level cut to one. Mean 0 and std 1
# per channel: the real model's statistics describe its trained latents.
SMALL_WAN = dict(base_dim=8, num_res_blocks=1)


def small_wan_config(z_dim: int = 16, **overrides) -> dict:
    """The keyword arguments of the small Wan-shaped VAE."""
    config = dict(
        SMALL_WAN,
        z_dim=z_dim,
        latents_mean=[0.0] * z_dim,
        latents_std=[1.0] * z_dim,
    )
    config.update(overrides)
    return config


def small_wan_vae(z_dim: int = 16, seed: int = 0, **overrides):
    """``AutoencoderKLWan`` in Wan 2.1's shape, tiny, RANDOM weights drawn
    from ``seed``, in eval mode."""
    import torch
    from diffusers import AutoencoderKLWan

    torch.manual_seed(seed)
    return AutoencoderKLWan(**small_wan_config(z_dim, **overrides)).eval()


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def rss_growth(fn, *args, **kwargs) -> int:
    """Bytes by which this process's resident set grows, at its peak,
    while ``fn(*args, **kwargs)`` runs under no_grad: a measurement, not
    a count. Linux only (VmHWM, reset through /proc/self/clear_refs).

    Before measuring, glibc is told to hand every block of 64 KiB or more
    straight back to the kernel when it is freed (a fixed mmap threshold,
    as ``infralens.memory.decode_rss_growth`` does for a fresh process),
    so memory freed by an earlier run does not hide this one's growth.
    Call ``fn`` once before measuring: its first call also allocates
    what later calls reuse (kernels, caches)."""
    import ctypes

    import torch

    m_mmap_threshold = -3  # glibc's mallopt parameter number
    ctypes.CDLL("libc.so.6").mallopt(m_mmap_threshold, 64 * 1024)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # VmHWM := VmRSS
    before = _status("VmRSS")
    with torch.no_grad():
        fn(*args, **kwargs)
    return _status("VmHWM") - before
