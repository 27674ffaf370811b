"""DiffSynth-Studio's multi-ControlNet loop, run on its own against
diffusers' keep rule: which steps each control runs in, for the same
intended windows."""

from types import SimpleNamespace

from infralens import glue
from infralens.quoted import load_function

# --8<-- [start:run]
forward = load_function(  # DiffSynth's code, compiled from the wheel
    "diffsynth.pipelines.flux_image:MultiControlNet.forward"
)
calls = []


def one_net(controlnet_input, conditioning, **kwargs):  # stands in
    calls.append((kwargs["step"], controlnet_input.controlnet_id))
    return [conditioning * controlnet_input.scale], []


net = SimpleNamespace(process_single_controlnet=one_net)
steps = 10
inputs = [  # progress runs from 1 (first step) down to 0 (last step)
    SimpleNamespace(controlnet_id=0, scale=0.7, start=1.0, end=0.2),
    SimpleNamespace(controlnet_id=1, scale=0.5, start=0.8, end=0.0),
]
for i in range(steps):
    forward(net, [1.0, 1.0], inputs, i, steps, step=i)
ran = {c: [s for s, k in calls if k == c] for c in (0, 1)}
print("DiffSynth runs net 0 at steps", ran[0])
print("DiffSynth runs net 1 at steps", ran[1])
# --8<-- [end:run]

# --8<-- [start:diffusers]
start, end = [0.0, 0.2], [0.8, 1.0]  # diffusers: fractions from step 0
keep = [  # the rule of StableDiffusionControlNetPipeline.__call__
    [
        1.0 - float(i / steps < s or (i + 1) / steps > e)
        for s, e in zip(start, end, strict=True)
    ]
    for i in range(steps)
]
for c in (0, 1):
    on = [i for i in range(steps) if keep[i][c]]
    print(f"diffusers weights net {c} by 1 at steps {on}, by 0 else")
# --8<-- [end:diffusers]

diff_on = {c: [i for i in range(steps) if keep[i][c]] for c in (0, 1)}
print("DiffSynth calls:", len(calls), "of", 2 * steps)
assert len(calls) < 2 * steps  # skipped, not multiplied by zero
glue("ds_calls", len(calls))
glue("all_calls", 2 * steps)
glue("ds_steps", steps)
glue("ds_net0", ", ".join(map(str, ran[0])))
glue("ds_net1", ", ".join(map(str, ran[1])))
glue("df_net0", ", ".join(map(str, diff_on[0])))
glue("df_net1", ", ".join(map(str, diff_on[1])))
glue("same_windows", ran == diff_on)
