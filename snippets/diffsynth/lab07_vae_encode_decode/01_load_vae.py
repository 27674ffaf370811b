"""Load the shipped VAE and read its contract from the config."""

import torch
from diffusers import AutoencoderKL

from infralens import glue
from infralens.small_vae import MODEL_DIR

# --8<-- [start:load]
vae = AutoencoderKL.from_pretrained(MODEL_DIR)  # (1)!
vae.eval()
cfg = vae.config

factor = 2 ** (len(cfg.block_out_channels) - 1)  # (2)!
print("block_out_channels:", list(cfg.block_out_channels))
print("spatial factor:    ", factor)
print("latent channels:   ", cfg.latent_channels)
print("scaling_factor:    ", cfg.scaling_factor)  # (3)!
print("shift_factor:      ", cfg.shift_factor)
# --8<-- [end:load]

# --8<-- [start:size]
SD = dict(  # Stable Diffusion 1.x's VAE layout (LDM's kl-f8)
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
)
with torch.device("meta"):  # shapes only: nothing allocated
    sd = AutoencoderKL(**SD)


def params(module):
    return sum(p.numel() for p in module.parameters())


print(f"{'':<19}{'small VAE':>20}{'SD 1.x VAE':>22}")
for key in ("block_out_channels", "layers_per_block", "norm_num_groups"):
    print(f"{key:<19}{str(cfg[key]):>20}{str(sd.config[key]):>22}")
for part in ("encoder", "decoder"):
    n_small = params(getattr(vae, part))
    n_sd = params(getattr(sd, part))
    print(f"{part + ' parameters':<19}{n_small:>20,}{n_sd:>22,}")
# --8<-- [end:size]

assert factor == 8 and cfg.latent_channels == 4
assert cfg.layers_per_block < sd.config.layers_per_block  # shallower
small_w, sd_w = cfg.block_out_channels, SD["block_out_channels"]
shares = {a / b for a, b in zip(small_w, sd_w, strict=True)}
assert len(shares) == 1  # every block narrower by the same share
assert cfg.norm_num_groups < sd.config.norm_num_groups
n_enc, n_dec = params(vae.encoder), params(vae.decoder)
glue("factor", factor)
glue("latent_channels", cfg.latent_channels)
glue("scaling_factor", cfg.scaling_factor)
glue("n_params", f"{n_enc + n_dec:,}")
glue(
    "width_share",
    f"{cfg.block_out_channels[-1] / SD['block_out_channels'][-1]:.2f}",
)
glue("small_layers", cfg.layers_per_block)
glue("sd_layers", sd.config.layers_per_block)
glue("small_groups", cfg.norm_num_groups)
glue("sd_groups", sd.config.norm_num_groups)
glue("enc_ratio", f"{params(sd.encoder) / n_enc:.0f}")
