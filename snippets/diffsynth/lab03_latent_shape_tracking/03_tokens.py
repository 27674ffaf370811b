"""From latents to tokens: FLUX's 2x2 packing run on a real latent, what
attention sees in FLUX- and Wan-shaped transformers, and token counts at
real resolutions."""

import inspect

import matplotlib.pyplot as plt
import torch
from diffusers import (
    AutoencoderKLWan,
    FluxTransformer2DModel,
    WanTransformer3DModel,
)
from diffusers.pipelines.flux.pipeline_flux import FluxPipeline
from diffusers.pipelines.wan.pipeline_wan import WanPipeline

from infralens import glue, save_figure
from infralens.small_vae import cat_image, load

vae = load()

# --8<-- [start:pack]
with torch.no_grad():
    z = vae.encode(cat_image()).latent_dist.mode()  # (1, 4, 16, 24)
latents = z * vae.config.scaling_factor
B, C, h, w = latents.shape
tokens = FluxPipeline._pack_latents(latents, B, C, h, w)  # (B, h/2*w/2, 4C)
back = FluxPipeline._unpack_latents(tokens, h * 8, w * 8, 8)
print("latents", tuple(latents.shape), "-> tokens", tuple(tokens.shape))
print("unpack(pack(latents)) == latents:", torch.equal(back, latents))

where = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)
where = where.expand(B, C, h, w).contiguous()  # each cell holds its index
packed = FluxPipeline._pack_latents(where, B, C, h, w)[0].long()
for t in (0, 1, w // 2):
    cells = [divmod(i, w) for i in packed[t, :4].tolist()]
    print(f"token {t:>2}: channel 0 at (row, col) {cells}")
# --8<-- [end:pack]

assert torch.equal(back, latents)
assert torch.equal(packed, packed[:, :4].repeat(1, C))  # same cells, all C
assert tuple(tokens.shape) == (1, h * w // 4, 4 * C)
glue("cat_latent", str(tuple(latents.shape)))
glue("cat_tokens", str(tuple(tokens.shape)))
glue("cat_n", h * w // 4)

# --8<-- [start:figure]
token_of = torch.empty(h * w, dtype=torch.long)
for t, cells in enumerate(packed[:, :4]):  # channel 0's four cells
    token_of[cells] = t
fig, (left, right) = plt.subplots(
    1, 2, figsize=(9, 3.4), width_ratios=[1.4, 1], layout="constrained"
)
left.imshow((token_of.view(h, w) % 7).numpy(), cmap="tab10", vmax=9)
for t in range(0, h * w // 4, 5):
    r, c = divmod(int(packed[t, 0]), w)
    left.text(c + 0.5, r + 0.5, str(t), ha="center", va="center", size=7)
left.set_title(f"latent {h}x{w}: each 2x2 block is one token", fontsize=10)
right.imshow(
    tokens[0].numpy(), aspect="auto", cmap="coolwarm", interpolation="nearest"
)
right.set_title(f"tokens {tuple(tokens.shape[1:])}: one row each", size=10)
right.set_xlabel("4 channels x 2x2 positions")
right.set_ylabel("token")
save_figure(
    fig,
    "flux_packing.png",
    alt=f"Left: the cat's {h} by {w} latent with each 2 by 2 block of cells "
    "coloured as one token, every fifth token numbered; the numbers run "
    "left to right along each row of blocks. Right: the "
    f"{tokens.shape[1]} tokens as {tokens.shape[1]} rows of "
    f"{tokens.shape[2]} values ({C} channels times 2 by 2 positions), "
    "coloured blue to red.",
)
# --8<-- [end:figure]


# --8<-- [start:dit_hooks]
seen = []  # (module, latent-side length, text-side length or None)


def watch_attention(model, prefix):
    for name, module in model.named_modules():
        if type(module).__name__ not in ("FluxAttention", "WanAttention"):
            continue
        signature = inspect.signature(module.forward)

        def hook(module, args, kwargs, name=name, signature=signature):
            bound = signature.bind(*args, **kwargs).arguments  # by name
            text = bound.get("encoder_hidden_states")
            text_len = None if text is None else text.shape[1]
            n = bound["hidden_states"].shape[1]
            seen.append((f"{prefix}.{name}", n, text_len))

        module.register_forward_pre_hook(hook, with_kwargs=True)


# --8<-- [end:dit_hooks]

torch.manual_seed(0)
text_len = 7  # prompt tokens in this toy run

# --8<-- [start:dit_models]
flux = FluxTransformer2DModel(  # FLUX.1's blocks, tiny widths
    in_channels=4 * 16,
    num_layers=1,
    num_single_layers=1,
    attention_head_dim=16,
    num_attention_heads=2,
    joint_attention_dim=32,
    pooled_projection_dim=32,
    axes_dims_rope=(4, 6, 6),
).eval()
wan = WanTransformer3DModel(  # Wan 2.1's blocks, tiny widths
    num_attention_heads=2,
    attention_head_dim=8,
    text_dim=32,
    freq_dim=16,
    ffn_dim=32,
    num_layers=1,
).eval()
# --8<-- [end:dit_models]

# --8<-- [start:dit_run]
watch_attention(flux, "flux")
watch_attention(wan, "wan")
text = torch.randn(1, text_len, 32)  # (B, text tokens, width)
x = FluxPipeline._pack_latents(torch.randn(1, 16, h, w), 1, 16, h, w)
with torch.no_grad():
    flux(
        hidden_states=x,  # (1, h/2 * w/2, 64): packed latents
        encoder_hidden_states=text,
        pooled_projections=torch.randn(1, 32),
        timestep=torch.tensor([0.5]),
        img_ids=FluxPipeline._prepare_latent_image_ids(
            1, h // 2, w // 2, "cpu", torch.float32
        ),
        txt_ids=torch.zeros(text_len, 3),
    )
    wan(
        hidden_states=torch.randn(1, 16, 3, h, w),  # (B, C, F, H/8, W/8)
        timestep=torch.tensor([500]),
        encoder_hidden_states=text,
    )
print("RANDOM WEIGHTS: only the sequence lengths are the point")
print(f"{'attention module':<38}{'hidden_states':>14}{'encoder_hs':>11}")
for name, n, text_n in seen:
    print(f"{name:<38}{n:>14}{'-' if text_n is None else text_n:>11}")
# --8<-- [end:dit_run]

wan_tokens = 3 * (h // 2) * (w // 2)
assert [row[1:] for row in seen] == [
    (h * w // 4, text_len),  # FLUX double-stream: image and text apart
    (h * w // 4 + text_len, None),  # single-stream: joined by its block
    (wan_tokens, None),  # Wan self-attention: video tokens only
    (wan_tokens, text_len),  # Wan cross-attention: text as keys
]
joint = h * w // 4 + text_len
glue("text_len", text_len)
glue("joint", joint)
glue("wan_toy_tokens", wan_tokens)
glue("wan_toy_grid", f"3 x {h // 2} x {w // 2}")

# --8<-- [start:count]
text_max = (
    inspect.signature(FluxPipeline.__call__)
    .parameters["max_sequence_length"]
    .default
)  # T5 tokens FLUX reads by default
rows = []
for side in (512, 1024, 1536):
    lat = torch.zeros(1, 16, 2 * (side // 16), 2 * (side // 16))
    n = FluxPipeline._pack_latents(lat, 1, 16, *lat.shape[2:]).shape[1]
    rows.append((f"FLUX.1 {side}x{side}", n, n + text_max))
with torch.device("meta"):  # configs only: no weights, no memory
    wan_vae, wan_dit = AutoencoderKLWan(), WanTransformer3DModel()
wan_pipe = WanPipeline(None, None, vae=wan_vae, scheduler=None)
for height, width in ((480, 832), (720, 1280)):
    lat = wan_pipe.prepare_latents(  # (B, 16, 21, H/8, W/8) for 81 frames
        1, 16, height, width, 81, torch.float32, torch.device("meta")
    )
    n = wan_dit.patch_embedding(lat).flatten(2).shape[2]
    rows.append((f"Wan 2.1 {width}x{height}, 81 frames", n, n))
print(f"{'model, output':<30}{'latent tokens':>14}{'attended':>10}")
for label, n, attended in rows:
    print(f"{label:<30}{n:>14,}{attended:>10,}")
print("score entries per head and layer: attended squared")
for label, _, attended in rows:
    print(f"{label:<30}{attended**2 / 1e6:>14,.0f} M")
# --8<-- [end:count]

counts = {label: (n, a) for label, n, a in rows}
assert counts["FLUX.1 1024x1024"][0] == 4096
glue("text_max", text_max)
glue("flux1024", f"{counts['FLUX.1 1024x1024'][0]:,}")
glue("flux1024_joint", f"{counts['FLUX.1 1024x1024'][1]:,}")
glue("wan480", f"{counts['Wan 2.1 832x480, 81 frames'][0]:,}")
wan_over_flux = (
    counts["Wan 2.1 832x480, 81 frames"][1] / counts["FLUX.1 1024x1024"][1]
) ** 2
glue("wan_over_flux", f"{wan_over_flux:.0f}")
flux_2x = (counts["FLUX.1 1024x1024"][1] / counts["FLUX.1 512x512"][1]) ** 2
glue("flux_512_to_1024", f"{flux_2x:.0f}")

# --8<-- [start:chart]
fig, ax = plt.subplots(figsize=(7.2, 3.0), layout="constrained")
labels = [label.replace(", ", "\n") for label, *_ in rows]
ax.barh(labels, [a**2 for *_, a in rows], color="tab:blue")
ax.set_xscale("log")
ax.invert_yaxis()
ax.set_xlabel("attention score entries per head and layer (log)")
for i, (_, _, a) in enumerate(rows):
    ax.text(a**2, i, f" {a:,} tokens", va="center", size=8)
ax.set_xlim(1e6, 1e11)
bars = "; ".join(
    f"{label}: {a:,} tokens, {a**2 / 1e6:,.0f} million" for label, _, a in rows
)
save_figure(
    fig,
    "attention_cost.png",
    alt="Horizontal bar chart on a log scale of attention score entries "
    f"per head and layer, attended tokens squared. {bars}. The Wan 2.1 "
    "bars reach far past every FLUX.1 bar.",
)
# --8<-- [end:chart]
