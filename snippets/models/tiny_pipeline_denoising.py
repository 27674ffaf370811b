"""How well does the UNet predict noise on latents it never saw?"""

from infralens import glue
from infralens.pipeline_eval import denoising_error
from infralens.tiny_pipeline import load

pipe = load()
rows = denoising_error(pipe)  # the held-out cat, empty prompt
print(f"{'t':>4} {'UNet MSE':>9} {'predict 0':>10} {'ratio':>6}")
for t, mse, zero in rows:
    print(f"{t:>4} {mse:>9.3f} {zero:>10.3f} {mse / zero:>6.2f}")

assert all(mse < zero for _, mse, zero in rows)
worst = max(mse / zero for _, mse, zero in rows)
glue("worst_ratio", f"{worst:.2f}")
