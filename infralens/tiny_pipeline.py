"""The tiny text-to-image pipeline that ships in ``models/tiny-sd/``.

A real diffusers ``StableDiffusionPipeline`` folder: a CLIP tokenizer with
a BPE vocabulary built from the captions below, a small ``CLIPTextModel``,
a small ``UNet2DConditionModel`` trained on the small VAE's scaled
latents, Stable Diffusion's DDIM scheduler configuration, and the small
VAE unchanged. ``scripts/train_pipeline.py`` trains it;
``scripts/evaluate_pipeline.py`` measures it and writes its model card.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from infralens.small_vae import MODEL_DIR as VAE_DIR

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models" / "tiny-sd"
COMPONENTS = ("tokenizer", "text_encoder", "unet", "scheduler", "vae")

# What the model is asked to draw: two descriptions of each packaged
# training image, each written in four phrasings. The words were chosen by
# looking at the images; the held-out cat has no caption.
SUBJECTS = {
    "astronaut": ("an astronaut", "an astronaut in a white suit"),
    "coffee": ("a cup of coffee", "coffee on a saucer"),
    "rocket": ("a rocket", "a rocket on the launch pad"),
    "immunohistochemistry": ("stained tissue", "a stained tissue sample"),
    "retina": ("a retina", "blood vessels of the eye"),
    "hubble_deep_field": ("galaxies in deep space", "the hubble deep field"),
    "camera": ("a cameraman", "a man with a camera"),
    "brick": ("a brick wall", "red bricks"),
    "grass": ("grass", "a lawn of green grass"),
    "gravel": ("gravel", "small grey stones"),
    "coins": ("old coins", "coins on a table"),
    "text": ("printed text", "letters on a page"),
    "grace_hopper": ("grace hopper", "a woman in navy uniform"),
}
TEMPLATES = ("{}", "a photo of {}", "an image of {}", "a picture showing {}")


def captions(name: str) -> list[str]:
    """Every caption of one training image, in a fixed order."""
    return [t.format(s) for s in SUBJECTS[name] for t in TEMPLATES]


def prompt(name: str) -> str:
    """The one caption per image that pages and the evaluation use."""
    return TEMPLATES[1].format(SUBJECTS[name][0])


# Positions of the text encoder, start and end tokens included. The longest
# caption needs 11; check_prompt refuses a prompt that needs more than 16.
MAX_TOKENS = 16

TEXT_ENCODER = dict(
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=MAX_TOKENS,
    projection_dim=64,
)

UNET = dict(
    sample_size=16,  # 128 px images: 128 / 8
    in_channels=4,
    out_channels=4,
    block_out_channels=(32, 64, 64),
    layers_per_block=1,
    down_block_types=(
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=64,
    attention_head_dim=4,
    norm_num_groups=32,
)

# Stable Diffusion v1's betas (scaled linear, 0.00085 to 0.012, 1000
# steps), rescaled to zero terminal SNR, with v-prediction and "trailing"
# timesteps: Lin et al. 2023 (arXiv:2305.08891), as diffusers implements
# it. With SD's betas as they are, the last timestep keeps a trace of the
# image, and on 16x16 latents the mean of the starting noise decided each
# sample's colours whatever the prompt said. clip_sample is off: latents
# are not images in [-1, 1].
SCHEDULE = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    rescale_betas_zero_snr=True,
    prediction_type="v_prediction",
    timestep_spacing="trailing",
    clip_sample=False,
)
SAMPLER = dict(SCHEDULE, set_alpha_to_one=False, steps_offset=1)

# ---------------------------------------------------------------- tokenizer
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def byte_alphabet() -> list[str]:
    """The 256 printable characters that byte-level BPE uses for the bytes
    0..255, in byte order (the GPT-2 / CLIP mapping: printable Latin-1
    bytes stand for themselves, the rest are shifted past U+0100)."""
    keep = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars, shifted = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + shifted)
            shifted += 1
    return [chars[b] for b in range(256)]


def learn_bpe(
    corpus: list[str],
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A CLIP-format BPE vocabulary and merge list learned from ``corpus``.

    Words are split as CLIP splits them (lower case, runs of letters);
    merges are learned greedily, most frequent pair first (ties broken
    alphabetically), until every word of the corpus is one token.
    """
    words = Counter(
        w for text in corpus for w in re.findall(r"[a-z]+", text.lower())
    )
    split = {w: tuple(w[:-1]) + (w[-1] + "</w>",) for w in words}
    merges: list[tuple[str, str]] = []
    while True:
        pairs: Counter = Counter()
        for w, parts in split.items():
            for a, b in zip(parts, parts[1:], strict=False):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for w, parts in split.items():
            out, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                    out.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            split[w] = tuple(out)
    alphabet = byte_alphabet()
    tokens = alphabet + [c + "</w>" for c in alphabet]
    tokens += [a + b for a, b in merges] + [BOS, EOS]
    return {t: i for i, t in enumerate(tokens)}, merges


def all_captions() -> list[str]:
    return [c for name in SUBJECTS for c in captions(name)]


def build_tokenizer():
    """A ``CLIPTokenizer`` whose vocabulary is learned from the captions."""
    from transformers import CLIPTokenizer

    vocab, merges = learn_bpe(all_captions())
    return CLIPTokenizer(
        vocab=vocab, merges=merges, model_max_length=MAX_TOKENS
    )


# ------------------------------------------------------------------ loading
def _quiet_transformers():
    # transformers warns once that CLIPImageProcessor falls back to PIL
    # when torchvision is absent; this pipeline has no image processor.
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    diffusers_logging.disable_progress_bar()


def check_folder(folder: Path) -> None:
    """Fail clearly when a component that model_index.json lists has no
    folder (diffusers' own error does not name the missing path)."""
    index = Path(folder) / "model_index.json"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: no model_index.json")
    text = index.read_text()
    entries, lines = json.loads(text), text.splitlines()
    for name, value in entries.items():
        if name.startswith("_") or not isinstance(value, list):
            continue
        if value[0] is None:
            continue
        if not (Path(folder) / name).is_dir():
            line = next(i for i, t in enumerate(lines, 1) if f'"{name}"' in t)
            raise FileNotFoundError(
                f"{index}:{line}: component {name!r} ({value[1]}) is "
                f"listed, but its folder {Path(folder) / name} is missing"
            )


def load(dtype=None, folder: Path = MODEL_DIR):
    """The shipped pipeline, loaded with the real diffusers call."""
    _quiet_transformers()
    from diffusers import DiffusionPipeline

    check_folder(folder)
    kwargs = {"torch_dtype": dtype} if dtype is not None else {}
    pipe = DiffusionPipeline.from_pretrained(folder, **kwargs)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def check_prompt(tokenizer, text: str) -> list[int]:
    """Token ids of ``text``; a ValueError if it does not fit.

    diffusers' pipelines cut a long prompt to the tokenizer's limit and
    log a warning; this refuses it instead, so a page never shows an image
    for a prompt the model did not read in full."""
    ids = tokenizer(text).input_ids
    limit = tokenizer.model_max_length
    if len(ids) > limit:
        raise ValueError(
            f"prompt {text!r} is {len(ids)} tokens with start and end; "
            f"the tiny pipeline's text encoder reads at most {limit}"
        )
    return ids


def weight_files(folder: Path = MODEL_DIR) -> list[Path]:
    """The weight files of every component, links resolved (the VAE's
    live in models/small-vae)."""
    return sorted(
        f
        for c in COMPONENTS
        for f in (Path(folder) / c).resolve().glob("*.safetensors")
    )


def new_models(vocab_size: int):
    """Untrained text encoder and UNet of the shipped architecture."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=vocab_size,
        bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
        **TEXT_ENCODER,
    )
    return CLIPTextModel(config), UNet2DConditionModel(**UNET)


__all__ = [
    "MODEL_DIR",
    "VAE_DIR",
    "COMPONENTS",
    "captions",
    "prompt",
    "build_tokenizer",
    "load",
    "check_prompt",
    "new_models",
]
