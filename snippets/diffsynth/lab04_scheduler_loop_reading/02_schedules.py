"""Timesteps and sigmas of several real schedulers for the same step
count, built from the tiny pipeline's own scheduler config."""

import math
import warnings

import matplotlib.pyplot as plt
import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
)

from infralens import glue, save_figure
from infralens.tiny_pipeline import load

warnings.filterwarnings(  # diffusers' np.array(tensor) under numpy 2
    "ignore", "__array__ implementation doesn't accept a copy"
)
pipe = load()
steps = 10

# --8<-- [start:build]
config = pipe.scheduler.config  # betas, v-prediction, trailing, zero SNR
schedulers = {
    "DDIM": DDIMScheduler.from_config(config),
    "Euler": EulerDiscreteScheduler.from_config(config),
    "DPM++ 2M": DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++"
    ),
    "DPM++ 2M Karras": DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++", use_karras_sigmas=True
    ),
    # flow matching: its own schedule, not this model's (see below)
    "FlowMatch shift 1": FlowMatchEulerDiscreteScheduler(shift=1.0),
    "FlowMatch shift 3": FlowMatchEulerDiscreteScheduler(shift=3.0),
}
for s in schedulers.values():
    s.set_timesteps(steps)
# --8<-- [end:build]

# --8<-- [start:timesteps]
short = {
    "DDIM": "DDIM",
    "Euler": "Euler",
    "DPM++ 2M": "DPM++",
    "DPM++ 2M Karras": "Karras",
    "FlowMatch shift 1": "Flow s1",
    "FlowMatch shift 3": "Flow s3",
}
print("timestep the denoiser is called at, per step")
print("step" + "".join(f"{v:>8}" for v in short.values()))
for i in range(steps):
    ts = [float(s.timesteps[i]) for s in schedulers.values()]
    print(f"{i:>4}" + "".join(f"{t:>8.0f}" for t in ts))
# --8<-- [end:timesteps]

# --8<-- [start:sigmas]
ddim = schedulers["DDIM"]
ab = ddim.alphas_cumprod[ddim.timesteps]  # signal variance at each t
ab = torch.cat([ab, ddim.final_alpha_cumprod[None]])  # where it ends
sigmas = {"DDIM": ((1 - ab) / ab).sqrt()}  # inf where alpha_bar is 0
sigmas.update({k: s.sigmas for k, s in schedulers.items() if k != "DDIM"})
print("sigma at each step; the last row is where the last step lands")
print("step" + "".join(f"{v:>8}" for v in short.values()))


def fmt(x):  # 3 significant digits, whole numbers from 100 up
    return f"{x:>8.0f}" if 100 <= x < math.inf else f"{x:>8.3g}"


for i in range(steps + 1):
    row = "".join(fmt(float(sig[i])) for sig in sigmas.values())
    print(f"{i if i < steps else 'end':>4}" + row)
# --8<-- [end:sigmas]

# --8<-- [start:figure]
fig, (ax_t, ax_s) = plt.subplots(1, 2, figsize=(9, 3.6))
styles = {"DDIM": "o-", "DPM++ 2M Karras": "s-"}
styles.update({"FlowMatch shift 1": "^--", "FlowMatch shift 3": "v--"})
calls_at = []  # each line's timesteps, for the text alternative
for name, style in styles.items():
    s = schedulers["Euler" if name == "DDIM" else name]
    label = "DDIM = Euler = DPM++ 2M" if name == "DDIM" else name
    ax_t.plot(s.timesteps.float(), style, label=label, ms=4)
    calls_at.append(f"{label}: {', '.join(f'{t:.0f}' for t in s.timesteps)}")
    if name.startswith("Flow"):
        sig = s.sigmas[:-1]  # x_t = (1 - sigma) x0 + sigma noise
        snr = ((1 - sig) / sig) ** 2
    else:
        snr = 1 / s.sigmas[:-1] ** 2  # x_t / sqrt(a_bar) = x0 + sigma noise
    ax_s.plot(torch.log10(snr), style, label=label, ms=4)
ax_t.set(xlabel="step", ylabel="timestep t", title="Where the loop calls")
ax_s.set(xlabel="step", ylabel="log10 SNR of the denoiser's input")
ax_s.set_title("How much image is left")
note = (
    "step 0 below the chart: DDIM, flow (SNR 0)\n"
    "blue step 0: Euler, DPM++ (a_bar = 2**-24)"
)
ax_s.text(0.98, 0.03, note, ha="right", fontsize=7, transform=ax_s.transAxes)
ax_t.legend(fontsize=8)
for ax in (ax_t, ax_s):
    ax.set_xticks(range(steps))
fig.tight_layout()
save_figure(
    fig,
    "schedules_10_steps.png",
    alt=f"Two line charts over steps 0 to {steps - 1}. Left, the timestep "
    "of each call: " + "; ".join(calls_at) + ". Right, log10 SNR of the "
    "denoiser's input, rising on every line; the blue line's step 0 is "
    "Euler's and DPM++ 2M's, while DDIM's and flow matching's step 0 (SNR "
    "0) lie below the chart. The tables above list every value.",
)
# --8<-- [end:figure]

# --8<-- [start:diffsynth]
# DiffSynth-Studio's DDIMScheduler.set_timesteps (quoted on the handbook
# page), evaluated for the same step count: not imported, recomputed
max_timestep = 1000 - 1
step_length = max_timestep / (steps - 1)
diffsynth = [round(max_timestep - i * step_length) for i in range(steps)]
print("diffusers DDIM, trailing:", ddim.timesteps.tolist())
print("DiffSynth-Studio DDIM:   ", diffsynth)
# --8<-- [end:diffsynth]

same = all(
    torch.equal(schedulers[k].timesteps, ddim.timesteps)
    for k in ("Euler", "DPM++ 2M")
)
karras = schedulers["DPM++ 2M Karras"].timesteps
assert same and math.isinf(float(sigmas["DDIM"][0]))
assert float(schedulers["Euler"].sigmas[0]) == 4096.0  # 1 / sqrt(2**-24)
glue("euler_sigma_max", f"{float(schedulers['Euler'].sigmas[0]):.0f}")
glue("karras_high", int((karras >= 900).sum()))
glue("karras_list", ", ".join(str(int(t)) for t in karras))
glue("steps", steps)
glue("diffsynth_last", diffsynth[-1])
glue("diffusers_last", int(ddim.timesteps[-1]))
