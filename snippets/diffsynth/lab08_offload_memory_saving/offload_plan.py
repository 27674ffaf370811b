# %% [markdown]
# # Lab 08 starter: Offload / Memory Saving
#
# A runnable starting point; its outputs on the site come from the build.

# %%
from infralens.small_vae import MODEL_DIR, load

VAE_SOURCE = MODEL_DIR  # (1)!
vae = load()
print("latent channels:", vae.config.latent_channels)
