"""Prompt -> token ids -> embeddings, with the tiny pipeline's tokenizer
and text encoder, checked against the path the pipeline itself takes."""

import torch

from infralens import glue
from infralens.tiny_pipeline import load

pipe = load()
prompt = "a photo of a brick wall"

# --8<-- [start:tokens]
tok = pipe.tokenizer
ids = tok(
    prompt,
    padding="max_length",  # always the full length
    max_length=tok.model_max_length,
    truncation=True,
    return_tensors="pt",
).input_ids  # (1, 16)
tokens = tok.convert_ids_to_tokens(ids[0])
n_text = tokens.index(tok.eos_token) + 1  # start, words, end
print("ids", tuple(ids.shape), ids[0].tolist())
print("tokens", tokens[:n_text])
print(f"{n_text} tokens carry the prompt, {len(tokens) - n_text} are padding")
# --8<-- [end:tokens]

# --8<-- [start:embed]
with torch.no_grad():
    embeds = pipe.text_encoder(ids).last_hidden_state  # (1, 16, 64)
    cond, uncond = pipe.encode_prompt(prompt, "cpu", 1, True)
print("embeddings", tuple(embeds.shape))
print("pipeline's encode_prompt gives the same:", torch.equal(cond, embeds))
print("empty prompt:", tuple(uncond.shape), f"norm {uncond.norm():.1f}")
print("text width", pipe.text_encoder.config.hidden_size, "= UNet's", end="")
print(" cross_attention_dim", pipe.unet.config.cross_attention_dim)
# --8<-- [end:embed]

assert torch.equal(cond, embeds)
assert uncond.norm() > 1  # the empty prompt is an embedding, not zeros
assert embeds.shape[-1] == pipe.unet.config.cross_attention_dim
glue("n_tokens", tok.model_max_length)
glue("n_text", n_text)
glue("n_words", n_text - 2)  # between the start and end tokens
glue("width", embeds.shape[-1])
glue("embed_shape", str(tuple(embeds.shape)))
