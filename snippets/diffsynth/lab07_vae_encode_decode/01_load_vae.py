"""Load the shipped VAE and read its contract from the config."""

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
n_enc = sum(p.numel() for p in vae.encoder.parameters())
n_dec = sum(p.numel() for p in vae.decoder.parameters())
print(f"encoder: {n_enc:>10,} parameters")
print(f"decoder: {n_dec:>10,} parameters")
print(f"SD 1.x VAE encoder is {34_163_592 / n_enc:.0f}x larger")
# --8<-- [end:size]

assert factor == 8 and cfg.latent_channels == 4
glue("factor", factor)
glue("latent_channels", cfg.latent_channels)
glue("scaling_factor", cfg.scaling_factor)
glue("n_params", f"{n_enc + n_dec:,}")
