"""What each stage of an SD 1.x img2img call costs, counted on meta."""

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from torch.utils.flop_counter import FlopCounterMode

from infralens import glue

# --8<-- [start:models]
with torch.device("meta"):  # shapes only: no memory, no download
    vae = AutoencoderKL(  # SD 1.x VAE architecture
        block_out_channels=[128, 256, 512, 512],
        layers_per_block=2,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
    )
    unet = UNet2DConditionModel(  # SD 1.x UNet architecture
        block_out_channels=[320, 640, 1280, 1280],
        cross_attention_dim=768,
        down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
        up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    )
image = torch.empty(1, 3, 512, 512, device="meta")
z = torch.empty(2, 4, 64, 64, device="meta")  # batch 2: guidance on
text = torch.empty(2, 77, 768, device="meta")
# --8<-- [end:models]

# --8<-- [start:count]


def tflops(fn):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e12


enc = tflops(lambda: vae.encode(image))
step = tflops(lambda: unet(z, 500, encoder_hidden_states=text))
dec = tflops(lambda: vae.decode(z[:1]))
steps = 12
print(f"UNet parameters: {sum(p.numel() for p in unet.parameters()):,}")
print(f"VAE encode, once:      {enc:6.2f} TFLOP")
print(f"UNet, per step:        {step:6.2f} TFLOP")
print(f"UNet, {steps} steps:        {steps * step:6.2f} TFLOP")
print(f"VAE decode, once:      {dec:6.2f} TFLOP")
# --8<-- [end:count]

assert dec > step  # one decode outweighs one guided UNet step at 512 px
glue("dec_over_step", f"{dec / step:.1f}")
glue("dec_share", f"{100 * dec / (enc + steps * step + dec):.0f}")
glue("steps", steps)
glue("size", image.shape[-1])
