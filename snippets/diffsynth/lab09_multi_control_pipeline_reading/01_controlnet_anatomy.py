"""What a ControlNet is next to the UNet it was copied from, what it
returns, and how a MultiControlNetModel combines two of them."""

import json

import torch
from diffusers import ControlNetModel

from infralens import glue
from infralens.controls import (
    EMBEDDING_CHANNELS,
    LAYOUT_CELL,
    MODEL_DIRS,
    TONE_CELL,
    cat_picture,
    control_maps,
    load_pipeline,
)

pipe = load_pipeline(("tone", "layout"))  # MultiControlNetModel inside
unet, multi = pipe.unet, pipe.controlnet
maps = control_maps(cat_picture())
x = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(0))
t = torch.tensor([500])
with torch.no_grad():
    text = pipe.text_encoder(
        pipe.tokenizer(
            "a photo of a brick wall",
            padding="max_length",
            return_tensors="pt",
        ).input_ids
    )[0]  # (1, 16, 64)

# --8<-- [start:fresh]
fresh = ControlNetModel.from_unet(  # a new ControlNet from this UNet
    unet, conditioning_embedding_out_channels=EMBEDDING_CHANNELS
)
same = [
    torch.equal(a, b)
    for a, b in zip(
        fresh.down_blocks.state_dict().values(),
        unet.down_blocks.state_dict().values(),
        strict=True,
    )
]
with torch.no_grad():
    down, mid = fresh(
        x, t, text, controlnet_cond=maps["tone"], return_dict=False
    )
n_unet = sum(p.numel() for p in unet.parameters())
n_net = sum(p.numel() for p in fresh.parameters())
part = {  # where the ControlNet's parameters sit
    name: sum(p.numel() for m in mods for p in m.parameters())
    for name, mods in {
        "copied from the UNet": (
            fresh.conv_in,
            fresh.time_embedding,
            fresh.down_blocks,
            fresh.mid_block,
        ),
        "control image embedding": (fresh.controlnet_cond_embedding,),
        "zero convolutions": (
            fresh.controlnet_down_blocks,
            fresh.controlnet_mid_block,
        ),
    }.items()
}
zero = {  # layers whose weights start at zero
    "skip outputs": all(
        not c.weight.any() for c in fresh.controlnet_down_blocks
    ),
    "mid output": not fresh.controlnet_mid_block.weight.any(),
    "embedding's last conv": not (
        fresh.controlnet_cond_embedding.conv_out.weight.any()
    ),
}
print(f"down blocks copied from the UNet: {sum(same)}/{len(same)} tensors")
print(f"parameters: ControlNet {n_net:,}, UNet {n_unet:,}")
print("  " + ", ".join(f"{k} {v:,}" for k, v in part.items()))
print("all-zero weights at birth:", zero)
print("residuals:", [tuple(r.shape[1:]) for r in down], tuple(mid.shape[1:]))
largest = max(r.abs().max().item() for r in (*down, mid))
print("largest residual of the untrained copy:", largest)
# --8<-- [end:fresh]

assert all(same) and largest == 0.0
assert sum(part.values()) == n_net and all(zero.values())
glue("n_net", f"{n_net:,}")
glue("n_copied", f"{part['copied from the UNet']:,}")
glue("n_embedding", f"{part['control image embedding']:,}")
glue("n_zero", f"{part['zero convolutions']:,}")
glue("n_new", f"{n_net - part['copied from the UNet']:,}")
glue("n_zero_convs", len(fresh.controlnet_down_blocks) + 1)
size_px = maps["tone"].shape[-1]  # control images are as large as the picture
glue("tone_grid", f"{size_px // TONE_CELL} x {size_px // TONE_CELL}")
glue("layout_grid", f"{size_px // LAYOUT_CELL} x {size_px // LAYOUT_CELL}")
glue("tone_cell_px", f"{TONE_CELL} x {TONE_CELL}")
glue("n_unet", f"{n_unet:,}")
glue("n_down", len(down))
glue("mid_shape", tuple(mid.shape[1:]))

# --8<-- [start:sum]
tone_net, layout_net = multi.nets
with torch.no_grad():
    both = multi(
        x,
        t,
        text,
        controlnet_cond=[maps["tone"], maps["layout"]],
        conditioning_scale=[0.7, 0.5],
        return_dict=False,
    )
    e = tone_net(
        x,
        t,
        text,
        controlnet_cond=maps["tone"],
        conditioning_scale=1.0,
        return_dict=False,
    )
    lay = layout_net(
        x,
        t,
        text,
        controlnet_cond=maps["layout"],
        conditioning_scale=1.0,
        return_dict=False,
    )
by_hand = [
    0.7 * a + 0.5 * b
    for a, b in zip((*e[0], e[1]), (*lay[0], lay[1]), strict=True)
]
gap = max(
    (a - b).abs().max().item()
    for a, b in zip((*both[0], both[1]), by_hand, strict=True)
)
print(f"multi(...) vs 0.7 * tone + 0.5 * layout: largest gap {gap:.1e}")
size = {
    n: torch.cat([r.flatten() for r in (*o[0], o[1])])
    .square()
    .mean()
    .sqrt()
    .item()
    for n, o in (("tone", e), ("layout", lay))
}
print(
    "residual RMS at weight 1.0:",
    ", ".join(f"{n} {v:.3f}" for n, v in size.items()),
)
# --8<-- [end:sum]

assert gap < 1e-5
glue("sum_gap", f"{gap:.1e}")
assert 0.8 < size["tone"] / size["layout"] < 1.25  # "close", as it says
glue("rms_tone", f"{size['tone']:.3f}")
glue("rms_layout", f"{size['layout']:.3f}")

# --8<-- [start:record]
logs = {}
for name, folder in MODEL_DIRS.items():
    logs[name] = log = json.loads((folder / "training_log.json").read_text())
    v = log["validation"]
    cpu = (log["prep_cpu_seconds"] + log["train_cpu_seconds"]) / 60
    print(
        f"{name}: {log['steps']} steps of {log['batch']} crops, peak "
        f"learning rate {log['lr']}, {cpu:.1f} processor-minutes"
    )
    print(
        f"  velocity error {v['with_control']:.4f} with its control "
        f"image, {v['black_control']:.4f} with a black one, "
        f"{v['no_controlnet']:.4f} without the ControlNet"
    )
# --8<-- [end:record]

for name, log in logs.items():
    for key in ("steps", "batch", "crops", "validation_crops", "lr"):
        glue(f"{name}_{key}", log[key])
    cpu = (log["prep_cpu_seconds"] + log["train_cpu_seconds"]) / 60
    glue(f"{name}_minutes", f"{cpu:.1f}")
    for key, value in log["validation"].items():
        glue(f"{name}_{key}", f"{value:.4f}")
        glue(f"{name}_{key}_3", f"{value:.3f}")
    v = log["validation"]
    assert v["with_control"] < v["no_controlnet"]  # the net helps
    assert v["with_control"] < v["black_control"]  # its image is used
for key in ("steps", "batch", "lr", "crops"):  # the page quotes one set
    assert logs["tone"][key] == logs["layout"][key], key
total = sum(
    g["prep_cpu_seconds"] + g["train_cpu_seconds"] for g in logs.values()
)
glue("total_minutes", f"{total / 60:.1f}")
