"""The held-out cat through the real image-to-image pipeline."""

from infralens import glue, save_image
from infralens.pipeline_eval import STRENGTHS, grid, img2img
from infralens.tiny_pipeline import load

pipe = load()
cat, rows = img2img(pipe)  # empty prompt, 20 steps, seed 0
print(f"{'strength':>8} {'PSNR vs input dB':>17}")
for strength, _, db in rows:
    print(f"{strength:>8} {db:>17.1f}")
save_image(
    grid([[cat, *(im for _, im, _ in rows)]]),
    "cat_then_strengths_0.3_0.5_0.7_0.9.png",
    alt="Five images in a row: the held-out cat photo, then the image-to-"
    "image pipeline's output with an empty prompt at strengths "
    + ", ".join(f"{s} ({db:.1f} dB PSNR)" for s, _, db in rows)
    + ". In all four outputs the cat has dissolved into blurry "
    "reddish-brown and white patches.",
)

psnrs = [db for _, _, db in rows]
assert psnrs == sorted(psnrs, reverse=True)  # more strength, less cat
glue("strengths", ", ".join(str(s) for s in STRENGTHS))
