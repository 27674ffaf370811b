"""Peak activation memory of a forward pass, counted tensor by tensor.

``PeakMemory`` watches every tensor that an operation creates while it is
active, adds the bytes of its storage when the storage first appears and
subtracts them when the last tracked tensor on it is freed. The peak is the
largest total of live activation bytes (weights and inputs, created before,
are not counted). It works the same on real CPU tensors and on the meta
device, where nothing is allocated, so a model too large for this machine
can be accounted with the same code that is checked on a real run.
"""

from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakMemory(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.live = 0
        self.peak = 0
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
            entry[0] += 1
            weakref.finalize(t, self._release, key)
        return out


def peak_bytes(fn, *args, **kwargs) -> int:
    """Run ``fn(*args, **kwargs)`` under no_grad and return its peak."""
    with torch.no_grad(), PeakMemory() as pm:
        fn(*args, **kwargs)
    return pm.peak
