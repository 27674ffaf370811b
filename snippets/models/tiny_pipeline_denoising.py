"""How well does the UNet denoise latents it never saw?"""

from infralens import glue
from infralens.pipeline_eval import denoising_error
from infralens.tiny_pipeline import load

pipe = load()
rows = denoising_error(pipe)  # the held-out cat, empty prompt, v error
print(f"{'t':>4} {'UNet MSE':>9} {'predict 0':>10} {'ratio':>6}")
for t, mse, zero in rows:
    print(f"{t:>4} {mse:>9.3f} {zero:>10.3f} {mse / zero:>6.2f}")

best_t, best, best_zero = min(rows, key=lambda r: r[1] / r[2])
last_t, last, last_zero = rows[-1]
assert best < best_zero
glue("best_t", best_t)
glue("best_ratio", f"{best / best_zero:.2f}")
glue("last_t", last_t)
glue("last_ratio", f"{last / last_zero:.2f}")
