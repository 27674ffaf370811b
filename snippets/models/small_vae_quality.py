"""Re-measure the shipped VAE's held-out quality in this build."""

from infralens import glue
from infralens.small_vae import evaluate

result = evaluate()  # chelsea at three sizes, never seen in training
print(f"scaling_factor: {result['scaling_factor']}")
print("PSNR and latent std of chelsea; std of the packaged image set")
head = ("size", "PSNR dB", "std cat", "std set", "images")
print("{:>8} {:>8} {:>8} {:>8} {:>7}".format(*head))
for r in result["rows"]:
    print(
        f"{r['size']:>8} {r['psnr']:>8.2f} {r['std_sample']:>8.3f} "
        f"{r['std_set']:>8.3f} {r['set_images']:>7}"
    )

bar = next(r for r in result["rows"] if r["size"] == "128x192")
assert bar["psnr"] >= 24.0
assert all(abs(r["std_set"] - 1) <= 0.1 for r in result["rows"])
glue("psnr_128", f"{bar['psnr']:.2f}")
