"""What the snippet worker imports once per build, before any snippet.

Importing diffusers' Stable Diffusion pipelines makes transformers log,
once per process, that its CLIP image processor falls back to PIL because
torchvision is not installed. The CPU build of torch that this site pins
has no matching torchvision on PyPI, and no pipeline here uses an image
processor, so the notice says nothing about any snippet: it is emitted
here, silenced, and transformers' log level is put back as it was.
"""

from transformers.utils import logging

_level = logging.get_verbosity()
logging.set_verbosity_error()
try:
    import diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion  # noqa: F401
finally:
    logging.set_verbosity(_level)
