"""Peak activation memory of a forward pass, counted tensor by tensor.

``PeakMemory`` watches every tensor that an operation creates while it is
active, adds the bytes of its storage when the storage first appears and
subtracts them when the last tracked tensor on it is freed. The peak is the
largest total of live activation bytes (weights and inputs, created before,
are not counted). It works the same on real CPU tensors and on the meta
device, where nothing is allocated, so a model too large for this machine
can be accounted at any size. It is an accounting of what the operators
return, not a measurement: buffers a kernel allocates inside itself and
the allocator's own overhead are invisible to it, and on the meta device
every operator runs its reference path (attention, for one, materialises
the full score matrix there, where a CUDA kernel would not).

``decode_rss_growth`` is a measurement to hold it against: how much the
resident memory of a fresh Python process grows while a VAE decodes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakMemory(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.live = 0
        self.peak = 0
        self.largest = 0  # bytes of the largest single storage
        self._refs: dict[int, list[int]] = {}  # storage id -> [count, bytes]

    def _release(self, key: int) -> None:
        entry = self._refs.get(key)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self._refs[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            storage = t.untyped_storage()
            key = storage._cdata
            entry = self._refs.get(key)
            if entry is None:
                entry = self._refs[key] = [0, storage.nbytes()]
                self.live += entry[1]
                self.peak = max(self.peak, self.live)
                self.largest = max(self.largest, entry[1])
            entry[0] += 1
            weakref.finalize(t, self._release, key)
        return out


def account(fn, *args, **kwargs) -> PeakMemory:
    """Run ``fn(*args, **kwargs)`` under no_grad, counting its tensors."""
    with torch.no_grad(), PeakMemory() as pm:
        fn(*args, **kwargs)
    return pm


def peak_bytes(fn, *args, **kwargs) -> int:
    """Run ``fn(*args, **kwargs)`` under no_grad and return its peak."""
    return account(fn, *args, **kwargs).peak


# Runs in a fresh interpreter: build an AutoencoderKL from a config (random
# weights: memory does not depend on their values), reset the kernel's
# resident-set high-water mark, decode once, read the mark again.
_RSS_PROBE = """
import json, sys
import torch
from diffusers import AutoencoderKL

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

config, px = json.loads(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(2)
torch.manual_seed(0)
vae = AutoencoderKL(**config).eval()
z = torch.randn(1, vae.config.latent_channels, px // 8, px // 8)
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # VmHWM := VmRSS
before = status("VmRSS")
with torch.no_grad():
    vae.decode(z)
print(json.dumps({"before": before, "peak": status("VmHWM")}))
"""


def decode_rss_growth(config: dict, px: int) -> int:
    """Bytes by which a fresh process's resident set grows, at its peak,
    while an ``AutoencoderKL(**config)`` decodes one ``px`` x ``px`` image
    on the CPU (Linux: VmHWM after resetting it through clear_refs).

    glibc's malloc is told to hand every block of 64 KiB or more straight
    back to the kernel when it is freed (a fixed mmap threshold); with its
    default, adaptive threshold, freed tensors linger in the heap and the
    figure changes from run to run by tens of MiB."""
    env = dict(
        os.environ,
        MALLOC_MMAP_THRESHOLD_="65536",
        OMP_NUM_THREADS="2",
    )
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, json.dumps(config), str(px)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    return row["peak"] - row["before"]
