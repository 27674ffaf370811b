"""Where the text enters the UNet: pre-hooks on every attention module
show what each was given, and swapping the text inside the cross-attention
modules alone shows there is no other way in."""

import torch

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()
unet = pipe.unet

# --8<-- [start:hooks]
given = []  # (module name, hidden_states shape, encoder_hidden_states)


def watch(name):
    def hook(module, args, kwargs):  # runs before the module's forward
        text = kwargs.get("encoder_hidden_states")
        shape = None if text is None else tuple(text.shape)
        short = name.replace("transformer_blocks.0.", "")
        given.append((short, tuple(args[0].shape), shape))

    return hook


attention = {
    name: module
    for name, module in unet.named_modules()
    if name.endswith(("attn1", "attn2"))
}
for name, module in attention.items():
    module.register_forward_pre_hook(watch(name), with_kwargs=True)
projections = []  # what to_q, to_k and to_v of the first attn2 turned into
first = next(m for n, m in attention.items() if n.endswith("attn2"))
for proj in ("to_q", "to_k", "to_v"):
    getattr(first, proj).register_forward_hook(
        lambda m, a, out, p=proj: projections.append(
            (p, tuple(a[0].shape), tuple(out.shape))
        )
    )
# --8<-- [end:hooks]

# --8<-- [start:run]
steps = 2
pipe(
    "a photo of a brick wall",
    num_inference_steps=steps,
    guidance_scale=3.0,
    generator=torch.Generator().manual_seed(0),
    output_type="latent",
)
print(f"{'module':<34}{'hidden_states':<15}{'encoder_hidden_states'}")
for name, hidden, text in given[: len(attention)]:
    if name.endswith("attn2"):
        print(f"{name:<34}{hidden!s:<15}{text}")
self_text = {text for name, _, text in given if name.endswith("attn1")}
print("encoder_hidden_states of every attn1 call:", *self_text)
for proj, shape_in, shape_out in projections[:3]:
    print(f"first attn2.{proj}: {shape_in} -> {shape_out}")
# --8<-- [end:run]

cross = [g for g in given if g[0].endswith("attn2")]
assert all(text == (2, 16, 64) for _, _, text in cross)
assert self_text == {None}  # attn1 never sees the text
assert len(given) == steps * len(attention)
glue("n_cross", len(attention) // 2)
glue("cross_calls", len(cross))
glue("steps", steps)
queries = sorted({hidden[1] for _, hidden, _ in cross})
glue("query_lengths", ", ".join(map(str, queries)))

# --8<-- [start:only_path]
cond, uncond = pipe.encode_prompt("a photo of a brick wall", "cpu", 1, True)


def swap_text(module, args, kwargs):  # hand attn2 the empty prompt instead
    return args, {**kwargs, "encoder_hidden_states": uncond}


swaps = [
    m.register_forward_pre_hook(swap_text, with_kwargs=True)
    for n, m in attention.items()
    if n.endswith("attn2")
]
latents = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
t = torch.tensor(500)
with torch.no_grad():
    swapped = unet(latents, t, encoder_hidden_states=cond).sample
    for handle in swaps:
        handle.remove()
    empty = unet(latents, t, encoder_hidden_states=uncond).sample
    prompted = unet(latents, t, encoder_hidden_states=cond).sample
print("prompt in, empty prompt swapped into attn2:", end=" ")
print("same as the empty prompt?", torch.equal(swapped, empty))
change = (prompted - empty).abs().max()
print(f"prompt versus empty prompt, no swap: max change {change:.3f}")
# --8<-- [end:only_path]

assert torch.equal(swapped, empty) and not torch.equal(prompted, empty)
