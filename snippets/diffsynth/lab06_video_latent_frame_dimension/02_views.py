"""Two layouts of the same numbers: the video view (B, C, F, H, W) and the
per-frame view (B*F, C, H, W); the right fold and the silent wrong one;
and which layout each layer inside the Wan-shaped VAE receives."""

from collections import Counter

import torch

from infralens import glue
from infralens.video_vae import RANDOM_WEIGHTS, small_wan_vae

# --8<-- [start:fold]
torch.manual_seed(0)
z = torch.randn(2, 16, 3, 4, 4)  # (B, C, F, h, w): two clips, 3 frames
B, C, F, h, w = z.shape
right = z.permute(0, 2, 1, 3, 4).reshape(B * F, C, h, w)  # frames to front
wrong = z.reshape(B * F, C, h, w)  # same shape, no error, wrong numbers
print("per-frame view:", tuple(right.shape), "and", tuple(wrong.shape))
print("right[4] is clip 1, frame 1:", torch.equal(right[4], z[1, :, 1]))
print(
    "wrong[0][:3] is channel 0 of frames 0-2:",
    torch.equal(wrong[0, :3], z[0, 0]),
)
print(
    "views hold the same frames:",
    torch.equal(right.reshape(B, F, C, h, w).permute(0, 2, 1, 3, 4), z),
)
# --8<-- [end:fold]

# --8<-- [start:inside]
vae = small_wan_vae()
print(RANDOM_WEIGHTS)
layouts = Counter()  # (layer type, rank of its input) -> calls


def record(module, args, out):
    layouts[type(module).__name__, args[0].dim()] += 1


for module in vae.encoder.modules():
    if type(module).__name__ in ("WanCausalConv3d", "Conv2d"):
        module.register_forward_hook(record)
with torch.no_grad():
    vae.encode(torch.randn(1, 3, 9, 32, 32))  # (B, C, F, H, W)
for (kind, rank), n in sorted(layouts.items()):
    view = "video (B, C, F, H, W)" if rank == 5 else "per-frame (B*F, C, H, W)"
    print(f"{kind:<16} {n:>3} calls, input {view}")
# --8<-- [end:inside]

assert torch.equal(right[4], z[1, :, 1]) and not torch.equal(right, wrong)
assert set(layouts) == {("WanCausalConv3d", 5), ("Conv2d", 4)}
glue("conv3d_calls", layouts["WanCausalConv3d", 5])
glue("conv2d_calls", layouts["Conv2d", 4])
