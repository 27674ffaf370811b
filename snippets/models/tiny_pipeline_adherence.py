"""Do samples for a caption look like that caption's training image?"""

from infralens import glue, save_image
from infralens.pipeline_eval import (
    GUIDANCE,
    SEEDS,
    adherence,
    names,
    sample_grid,
)
from infralens.tiny_pipeline import load, prompt

pipe = load()
result = adherence(pipe)  # every caption, seeds 0..3
chance = 1 / len(names())
print(f"guidance {GUIDANCE}, seeds {SEEDS}, 20 DDIM steps, 128x128")
print(f"{'caption':<36} matched to its own image")
for name in names():
    hits = result.per_image[name]
    print(f"{prompt(name):<36} {hits}/{len(SEEDS)}")
print(
    f"top-1: {result.correct}/{result.total} = {result.accuracy:.0%}"
    f" (chance {chance:.0%})"
)
save_image(
    sample_grid(result),
    "samples_source_then_seeds_0_to_3.png",
    alt=f"A grid of {len(names())} rows, one per caption: the training "
    f"image, then the samples for its caption with seeds {SEEDS[0]} to "
    f"{SEEDS[-1]}. The rows, "
    "in order: " + "; ".join(prompt(n) for n in names()) + ". How many "
    "samples matched their own image is in the table above.",
)

assert result.accuracy > 3 * chance
glue("top1", f"{result.accuracy:.0%}")
glue("chance", f"{chance:.0%}")
glue("samples", result.total)
