"""Classifier-free guidance as a batch of two: what the UNet is handed
with guidance on and off, recorded by a pre-hook on the real UNet."""

import torch

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()
prompt = "a photo of an astronaut"

# --8<-- [start:batch]
given = []  # per UNet call: (sample batch, text embeddings it was handed)


def watch(module, args, kwargs):
    given.append((args[0].shape[0], kwargs["encoder_hidden_states"]))


pipe.unet.register_forward_pre_hook(watch, with_kwargs=True)
runs = {}
for g in (1.0, 3.0):
    given.clear()
    pipe(
        prompt,
        guidance_scale=g,
        num_inference_steps=4,
        generator=torch.Generator().manual_seed(0),
        output_type="latent",
    )
    runs[g] = list(given)
    samples = sum(b for b, _ in given)
    print(
        f"guidance {g}: CFG {pipe.do_classifier_free_guidance}, "
        f"{len(given)} UNet calls, batch {given[0][0]}, "
        f"{samples} samples denoised"
    )
# --8<-- [end:batch]

# --8<-- [start:halves]
text = runs[3.0][0][1]  # (2, 16, 64): what the guided UNet was handed
cond, uncond = pipe.encode_prompt(prompt, "cpu", 1, True)
print("text batch", tuple(text.shape))
print("row 0 is the empty prompt:", torch.equal(text[:1], uncond))
print("row 1 is the prompt:      ", torch.equal(text[1:], cond))
# --8<-- [end:halves]

assert [b for b, _ in runs[1.0]] == [1] * 4
assert [b for b, _ in runs[3.0]] == [2] * 4
assert torch.equal(text[:1], uncond) and torch.equal(text[1:], cond)
glue("calls", len(runs[3.0]))
