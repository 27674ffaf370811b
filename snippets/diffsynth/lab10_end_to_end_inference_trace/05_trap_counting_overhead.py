"""The trap, instrument side: counting memory tensor by tensor slows
every operator, so a counted pass is no pass to time."""

import time
from contextlib import nullcontext

import torch

from infralens import glue
from infralens.memory import PeakMemory
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, no network

# --8<-- [start:overhead]
x = torch.zeros(2, 4, 16, 16)  # a guided batch of latents
text = torch.zeros(2, 16, 64)  # (2, tokens, width)


def best_of_three(counting):
    """Seconds of one UNet call, the fastest of three."""
    best = float("inf")
    for _ in range(3):
        counter = PeakMemory() if counting else nullcontext()
        start = time.perf_counter()
        with torch.no_grad(), counter:
            pipe.unet(x, torch.tensor(999), encoder_hidden_states=text)
        best = min(best, time.perf_counter() - start)
    return best


plain, counted = best_of_three(False), best_of_three(True)
print(
    f"one UNet call: {1e3 * plain:.1f} ms, "
    f"{1e3 * counted:.1f} ms while counting memory"
)
# --8<-- [end:overhead]

glue("slowdown", f"{counted / plain:.1f}")
