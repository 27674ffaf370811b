"""What the call hides, part 1: classifier-free guidance runs the text
encoder twice and the UNet on a batch of two."""

import torch

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()  # models/tiny-sd, no network
PROMPT = "a photo of a brick wall"

# --8<-- [start:cfg]
seen = {"text_encoder": [], "unet": []}  # what each module was given


def remember(name):
    def hook(module, args, output):
        seen[name].append(args[0])  # input ids / noisy latents

    return hook


for name in seen:
    getattr(pipe, name).register_forward_hook(remember(name))

runs = {}
for guidance in (3.0, 1.0):  # (1)!
    for calls in seen.values():
        calls.clear()
    gen = torch.Generator().manual_seed(0)
    pipe(
        PROMPT,
        height=128,
        width=128,
        num_inference_steps=4,
        guidance_scale=guidance,
        generator=gen,
    )
    texts = [
        pipe.tokenizer.decode(ids[0], skip_special_tokens=True)
        for ids in seen["text_encoder"]
    ]
    batches = sorted({tuple(x.shape) for x in seen["unet"]})
    runs[guidance] = (texts, len(seen["unet"]), batches)
    print(f"guidance {guidance}: text encoder read {texts}")
    print(f"  unet ran {len(seen['unet'])}x on {batches}")
# --8<-- [end:cfg]

assert runs[3.0] == ([PROMPT, ""], 4, [(2, 4, 16, 16)])
assert runs[1.0] == ([PROMPT], 4, [(1, 4, 16, 16)])
glue("guided_batch", runs[3.0][2][0][0])
glue("unguided_batch", runs[1.0][2][0][0])
