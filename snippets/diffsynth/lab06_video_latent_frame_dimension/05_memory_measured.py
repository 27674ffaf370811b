"""Memory against frame count, measured: how much this process's resident
memory grows while the small Wan-shaped VAE decodes on the CPU, against
the activations counted for the same decode. Resident memory differs by
a fraction of a MiB to a few MiB from run to run."""

import torch

from infralens import glue
from infralens.memory import account
from infralens.video_vae import RANDOM_WEIGHTS, rss_growth, small_wan_vae

MiB = 2**20

# --8<-- [start:measured]
vae = small_wan_vae()  # Wan-shaped, tiny, RANDOM weights
meta_vae = small_wan_vae().to("meta")
print(RANDOM_WEIGHTS)
rss_growth(
    vae.decode, torch.randn(1, 16, 3, 6, 6)
)  # 9-frame warm-up, not kept
print("small Wan-shaped VAE, decode to 48x48 on this CPU (MiB)")
print(f"{'frames':>6}{'counted':>9}{'measured (RSS growth)':>23}")
small = {}
for n in (1, 5, 9, 13, 17):
    lat = 1 + (n - 1) // 4
    z = torch.randn(1, 16, lat, 6, 6)  # (B, C, F_lat, h, w)
    counted = account(meta_vae.decode, z.to("meta")).peak / MiB
    measured = rss_growth(vae.decode, z) / MiB
    small[n] = (counted, measured)
    print(f"{n:>6}{counted:>9.1f}{measured:>23.1f}")
# --8<-- [end:measured]

assert all(m > c for c, m in small.values())  # RSS sees more than the count
assert small[17][1] < 1.5 * small[5][1]  # measured: nearly flat as well
assert small[1][1] < small[5][1]  # the one-frame first chunk is smaller
glue("small_ratio", f"{small[9][1] / small[9][0]:.1f}")
glue("small9_count", f"{small[9][0]:.1f}")
glue("small9_rss", f"{small[9][1]:.1f}")
glue("small5_rss", f"{small[5][1]:.1f}")
glue("small1_rss", f"{small[1][1]:.1f}")
glue("small17_rss", f"{small[17][1]:.1f}")
glue("small5_count", f"{small[5][0]:.1f}")
glue("small17_count", f"{small[17][0]:.1f}")
