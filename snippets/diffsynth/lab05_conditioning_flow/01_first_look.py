"""A first look at the lab's subject: replace with the lab's own code."""

from infralens import glue
from infralens.small_vae import load

vae = load()  # the shipped small VAE, no network
factor = 2 ** (len(vae.config.block_out_channels) - 1)
print("spatial factor:", factor)

assert factor == 8
glue("factor", factor)
