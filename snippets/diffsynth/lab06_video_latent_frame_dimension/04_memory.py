"""Memory against frame count: activations counted while Wan 2.1's VAE
decodes to 832x480 (meta device, no weights), one clip against the same
latents folded into a batch of one-frame clips."""

import ast
import textwrap

import matplotlib.pyplot as plt
import torch
from diffusers import AutoencoderKLWan

from infralens import glue, save_figure
from infralens.engine.library import Library
from infralens.memory import PeakMemory, account

MiB = 2**20

# --8<-- [start:count]
with torch.device("meta"):  # shapes only: no weights, nothing allocated
    wan = AutoencoderKLWan().eval()  # diffusers' defaults (quoted above)
H, W = 480, 832
FRAMES = (1, 5, 9, 17, 33, 81)
count = {"decode, one clip": [], "latent frames as batch": []}
for n in FRAMES:
    lat = 1 + (n - 1) // 4  # latent frames
    z = torch.empty(1, wan.config.z_dim, lat, H // 8, W // 8, device="meta")
    folded = z.permute(2, 1, 0, 3, 4)  # (F_lat, 16, 1, h, w): 1-frame clips
    count["decode, one clip"].append(account(wan.decode, z).peak / MiB)
    count["latent frames as batch"].append(
        account(wan.decode, folded).peak / MiB
    )
video_mib = [n * 3 * H * W * 4 / MiB for n in FRAMES]  # float32 output
print(f"Wan 2.1 VAE decode to {W}x{H}, float32, peak activations (MiB)")
print(f"{'frames':>6}{'one clip':>10}{'as batch':>10}{'the video':>11}")
rows = zip(FRAMES, *count.values(), video_mib, strict=True)
for n, one, batch, out in rows:
    print(f"{n:>6}{one:>10,.0f}{batch:>10,.0f}{out:>11,.0f}")
dec, fold = count.values()
# --8<-- [end:count]


# --8<-- [start:where]
class Where(PeakMemory):
    """The same count, noting which decoder call and operator set the peak,
    and each decoder call's own peak."""

    call, at, call_peak = -1, None, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        before = self.peak
        out = super().__torch_dispatch__(func, types, args, kwargs)
        self.call_peak = max(self.call_peak, self.live)
        if self.peak > before:
            self.at = (self.call, str(func.overloadpacket))
        return out


def cache_mib():  # the decoder's feature cache, each storage once
    stores = {
        t.untyped_storage()._cdata: t.untyped_storage().nbytes()
        for t in wan._feat_map
        if isinstance(t, torch.Tensor)
    }
    return sum(stores.values()) / MiB


calls = []  # per decoder call: live at its start, its peak, cache after


def before_call(mod, args):
    pm.call += 1
    pm.call_peak = pm.live
    calls.append([pm.live / MiB])


def after_call(mod, args, out):
    calls[-1] += [pm.call_peak / MiB, cache_mib()]


wan.decoder.register_forward_pre_hook(before_call)
wan.decoder.register_forward_hook(after_call)
where = {}
for n in (9, 81):
    calls.clear()
    z = torch.empty(
        1, wan.config.z_dim, 1 + (n - 1) // 4, H // 8, W // 8, device="meta"
    )
    with torch.no_grad(), Where() as pm:
        wan.decode(z)
    where[n] = (pm.peak / MiB, pm.at, len(calls))
    print(
        f"{n} frames: peak {pm.peak / MiB:,.0f} MiB in decoder call "
        f"{pm.at[0] + 1} of {len(calls)}, at {pm.at[1]}"
    )
print("81 frames, per decoder call (MiB):")
print(f"{'call':>5}{'live at start':>15}{'call peak':>11}{'cache after':>13}")
for i in (0, 1, 2, len(calls) - 1):
    start, peak, cache = calls[i]
    print(f"{i + 1:>5}{start:>15,.0f}{peak:>11,.0f}{cache:>13,.0f}")
# --8<-- [end:where]


# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for name, values in count.items():
    ax.plot(FRAMES, values, marker="o", label=name)
ax.plot(FRAMES, video_mib, linestyle="--", label="the decoded video")
ax.set_xlabel("frames")
ax.set_ylabel("MiB")
ax.set_title(f"Wan 2.1 VAE decode at {W}x{H}, counted on meta")
ax.legend(fontsize=8)
save_figure(
    fig,
    "memory_against_frames.png",
    alt=f"Line chart of peak activation memory while Wan 2.1's VAE "
    f"decodes to {W} by {H}, against frame count from {FRAMES[0]} to "
    f"{FRAMES[-1]}. One clip: {dec[0]:,.0f} MiB for one frame, "
    f"{dec[1]:,.0f} for five, {dec[-1]:,.0f} for {FRAMES[-1]}, nearly "
    "flat after the first chunk. The same latents decoded as a batch of "
    f"one-frame clips climb in a straight line to {fold[-1]:,.0f} MiB. "
    f"The decoded video itself grows to {video_mib[-1]:,.0f} MiB. The "
    "table above lists every point.",
)
# --8<-- [end:plot]

assert dec[-1] < 1.2 * dec[1]  # 5 -> 81 frames: chunked, nearly flat
for n, (peak, (call, op), ncalls) in where.items():
    assert peak == dec[FRAMES.index(n)] and call == ncalls - 1  # last call
    assert op != "aten.cat"
caches = [c[2] for c in calls]
assert caches[1] > caches[0] and all(c == caches[1] for c in caches[1:])
assert calls[-1][1] == where[81][0]
assert fold[0] == dec[0] and fold[-1] > 5 * dec[-1]  # folding: linear


def quoted_function(target):  # DiffSynth-Studio's source, read, not run
    q = Library().quote(target, (target, None))
    return ast.parse(textwrap.dedent(q.text(q.first, q.last))).body[0]


# diffusers' defaults are the ones DiffSynth-Studio's Wan VAE is built with
init = quoted_function("diffsynth.models.wan_video_vae:VideoVAE_.__init__")
params = [a.arg for a in init.args.args[-len(init.args.defaults) :]]
values = map(ast.literal_eval, init.args.defaults)
ds_defaults = dict(zip(params, values, strict=True))
ds_defaults["base_dim"] = ds_defaults.pop("dim")
assert all(wan.config[k] == v for k, v in ds_defaults.items()), ds_defaults
stats = {
    node.targets[0].id: ast.literal_eval(node.value)
    for node in quoted_function(
        "diffsynth.models.wan_video_vae:WanVideoVAE.__init__"
    ).body
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
}
assert stats["mean"] == wan.config.latents_mean
assert stats["std"] == wan.config.latents_std
glue("ds_checked", len(ds_defaults) + 2)
glue("wan_channels", wan.config.z_dim)
glue("wan_base_dim", wan.config.base_dim)
glue("wan_res_blocks", wan.config.num_res_blocks)
glue("dec1", f"{dec[0]:,.0f}")
glue("dec5", f"{dec[1]:,.0f}")
glue("dec81", f"{dec[-1]:,.0f}")
glue("video81", f"{video_mib[-1]:,.0f}")
glue("video5", f"{video_mib[1]:,.0f}")
glue("dec9", f"{dec[2]:,.0f}")
glue("video9", f"{video_mib[2]:,.0f}")
glue("step5_9", f"{dec[2] - dec[1]:,.0f}")
glue("video_step5_9", f"{video_mib[2] - video_mib[1]:,.0f}")
glue("growth9_81", f"{dec[-1] - dec[2]:,.0f}")
glue("video_growth9_81", f"{video_mib[-1] - video_mib[2]:,.0f}")
growth = (dec[-1] - dec[2]) / (video_mib[-1] - video_mib[2])
assert 0.8 < growth < 1.2  # about one copy of the output
glue("growth_ratio", f"{growth:.1f}")
glue("peak_op", where[81][1][1])
glue("cache0", f"{caches[0]:,.0f}")
glue("cache", f"{caches[1]:,.0f}")
glue("cache_share", f"{100 * caches[1] / dec[-1]:.0f}")
glue("call0_set", f"{calls[0][1] - calls[0][0]:,.0f}")
glue("call1_set", f"{calls[1][1] - calls[1][0]:,.0f}")
glue("temporal_factor", wan.config.scale_factor_temporal)
glue("spatial_factor", wan.config.scale_factor_spatial)
glue("fold_peak", f"{fold[-1]:,.0f}")
glue("fold_chunked", f"{dec[-1]:,.0f}")
glue("fold_ratio", f"{fold[-1] / dec[-1]:.1f}")
