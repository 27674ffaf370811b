"""Offload as a residency schedule, observed on a real pipeline call.

diffusers' ``enable_model_cpu_offload`` and accelerate's ``cpu_offload``
(which diffusers' ``enable_sequential_cpu_offload`` calls per component)
attach hooks that decide when weights go to the accelerator and when they
leave. ``Trace`` watches those hooks during one ``pipe(...)`` call and
makes no move of its own. It wraps, for the length of the call:

- ``accelerate.hooks.CpuOffload.pre_forward``, the hook model offload runs
  before a component's forward (or, through diffusers'
  ``apply_forward_hook``, before the VAE's ``decode``);
- ``torch.nn.Module.to`` when it is called on a pipeline component, with
  the function that called it;
- ``set_module_tensor_to_device`` as ``accelerate.hooks`` calls it, which
  is how sequential offload loads one layer's tensors before its forward
  and drops them (to the ``meta`` device) after it.

Every observation is tagged with the phase of the call it happened in:
``text`` (the text encoder's forward), ``step N`` (the N-th UNet call),
``decode`` (the VAE's ``decode``) and ``after`` (what the pipeline does
once the image is decoded).

From those calls it keeps an account of the bytes on the accelerator side
(``Event`` records). Layer loads are counted as they happen: each one
copies a tensor from the CPU copy accelerate keeps. Whole-model moves need
a decision the hook makes by comparing devices, and on a machine without
an accelerator the execution device is the CPU, so the comparison cannot
tell the two sides apart. For those the account follows the branches of
``CpuOffload.pre_forward`` with its own record of what is resident: the
previous model in the chain leaves if it is resident, the model about to
run arrives if it is not. The bytes are the real sizes of the tensors.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import torch

HOOK = "CpuOffload.pre_forward"


def _caller(depth: int) -> str:
    """Qualified name of the function that made the call, past any
    ``to`` methods that subclasses stack on ``torch.nn.Module.to``."""
    frame = sys._getframe(depth + 1)
    while frame.f_code.co_name == "to":
        frame = frame.f_back
    return frame.f_code.co_qualname.replace(".<locals>", "")


def nbytes(module: torch.nn.Module, buffers: bool = True) -> int:
    """Bytes of a module's parameters (and buffers)."""
    tensors = list(module.parameters())
    if buffers:
        tensors += list(module.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def components(pipe) -> dict[str, torch.nn.Module]:
    """The pipeline's modules, in the order of ``model_cpu_offload_seq``
    first, then the rest."""
    mods = {
        n: m
        for n, m in pipe.components.items()
        if isinstance(m, torch.nn.Module)
    }
    order = [n for n in pipe.model_cpu_offload_seq.split("->") if n in mods]
    return {n: mods[n] for n in order + [n for n in mods if n not in order]}


@dataclass(frozen=True)
class Call:
    """One observed call: ``what`` was called on ``component``."""

    phase: str
    component: str
    what: str
    via: str


@dataclass(frozen=True)
class Event:
    """One change of what the accelerator side holds."""

    phase: str
    component: str
    action: str  # "load" (host to accelerator), "offload" or "drop"
    nbytes: int
    via: str


@dataclass
class Trace:
    """Observe one pipeline call; see the module docstring.

    ``resident`` names the components whose weights are on the
    accelerator side before the call (all of them without offload, the
    kept ones when a component is excluded from offload)."""

    pipe: object
    resident: tuple[str, ...] = ()
    calls: list[Call] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    # (phase, bytes on the accelerator side per component) after each change
    snapshots: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    def __post_init__(self):
        self.mods = components(self.pipe)
        self.sizes = {n: nbytes(m) for n, m in self.mods.items()}
        self.owner = {}
        for name, mod in self.mods.items():
            for sub in mod.modules():
                self.owner[id(sub)] = name
        self.top = {id(m): n for n, m in self.mods.items()}
        self.held = {
            n: (self.sizes[n] if n in self.resident else 0) for n in self.mods
        }
        self.phase = "setup"
        self.steps = 0

    # ------------------------------------------------------------ phases
    def _enter(self, phase: str) -> None:
        self.phase = phase
        if phase not in self.phases:
            self.phases.append(phase)
        self._snap()

    def _snap(self) -> None:
        self.snapshots.append((self.phase, dict(self.held)))

    def _change(self, comp: str, action: str, size: int, via: str) -> None:
        self.events.append(Event(self.phase, comp, action, size, via))
        self.held[comp] += size if action == "load" else -size
        self._snap()

    # ------------------------------------------------------------ wrappers
    def __enter__(self):
        import accelerate.hooks as hooks

        trace = self
        self._hooks_mod = hooks
        self._orig_pre = hooks.CpuOffload.pre_forward
        self._orig_to = torch.nn.Module.to
        self._orig_set = hooks.set_module_tensor_to_device

        def pre_forward(hook, module, *args, **kwargs):
            comp = trace.top[id(module)]
            trace.calls.append(
                Call(trace.phase, comp, "CpuOffload.pre_forward", _caller(1))
            )
            prev = hook.prev_module_hook
            if prev is not None:
                name = trace.top[id(prev.model)]
                if trace.held[name]:
                    trace._change(name, "offload", trace.held[name], HOOK)
            if not trace.held[comp]:
                trace._change(comp, "load", trace.sizes[comp], HOOK)
            return trace._orig_pre(hook, module, *args, **kwargs)

        def to(module, *args, **kwargs):
            comp = trace.top.get(id(module))
            if comp is not None:
                target = args[0] if args else kwargs.get("device")
                caller = _caller(1)
                trace.calls.append(
                    Call(trace.phase, comp, f".to({str(target)!r})", caller)
                )
                cpu = torch.device(target).type == "cpu" and (
                    torch.device(target).index is None
                )
                if cpu and trace.held[comp]:
                    trace._change(comp, "offload", trace.held[comp], caller)
            return trace._orig_to(module, *args, **kwargs)

        def set_tensor(module, name, device, *args, value=None, **kwargs):
            comp = trace.owner.get(id(module), "?")
            tensor = module._parameters.get(name)
            if tensor is None:
                tensor = module._buffers.get(name)
            if str(device) == "meta":
                size = tensor.numel() * tensor.element_size()
                if tensor.device.type != "meta":
                    trace._change(comp, "drop", size, "post_forward")
            elif value is not None:
                size = value.numel() * value.element_size()
                trace._change(comp, "load", size, "pre_forward")
            return trace._orig_set(
                module, name, device, *args, value=value, **kwargs
            )

        hooks.CpuOffload.pre_forward = pre_forward
        torch.nn.Module.to = to
        hooks.set_module_tensor_to_device = set_tensor

        def mark(phase_of):
            def hook(module, args):
                trace._enter(phase_of())

            return hook

        def next_step():
            trace.steps += 1
            return f"step {trace.steps}"

        self._handles = [
            self.mods["text_encoder"].register_forward_pre_hook(
                mark(lambda: "text")
            ),
            self.mods["unet"].register_forward_pre_hook(mark(next_step)),
        ]
        vae = self.mods["vae"]
        decode = vae.decode

        def traced_decode(*args, **kwargs):
            trace._enter("decode")
            try:
                return decode(*args, **kwargs)
            finally:
                trace._enter("after")

        vae.decode = traced_decode
        self._enter("setup")
        return self

    def __exit__(self, *exc):
        hooks = self._hooks_mod
        hooks.CpuOffload.pre_forward = self._orig_pre
        torch.nn.Module.to = self._orig_to
        hooks.set_module_tensor_to_device = self._orig_set
        for h in self._handles:
            h.remove()
        del self.mods["vae"].decode  # back to the class's method
        return False

    # ------------------------------------------------------------ summaries
    def peak(self) -> int:
        """Most bytes on the accelerator side at any moment."""
        return max(sum(h.values()) for _, h in self.snapshots)

    def phase_peak(self, phase: str) -> dict[str, int]:
        """Per component, the most bytes it held during ``phase`` once the
        hooks had acted: the state on entering the phase counts only when
        nothing changed in it (a model offloaded as the next one arrives
        is not counted as held in the next phase)."""
        snaps = [held for p, held in self.snapshots if p == phase]
        if len(snaps) > 1:
            snaps = snaps[1:]
        return {n: max(h[n] for h in snaps) for n in self.mods}

    def moved(self, phase: str | None = None) -> tuple[int, int]:
        """(transfers, bytes) that crossed between host and accelerator,
        in one phase or in the whole call. A drop copies nothing: the CPU
        copy is kept, the accelerator's copy is freed."""
        ev = [
            e
            for e in self.events
            if e.action != "drop" and (phase is None or e.phase == phase)
        ]
        return len(ev), sum(e.nbytes for e in ev)


PROMPT = "a photo of a brick wall"


def generate(pipe, steps: int = 4, size: int = 64):
    """One small, seeded text-to-image call; (1, size, size, 3) floats."""
    return pipe(
        PROMPT,
        num_inference_steps=steps,
        height=size,
        width=size,
        generator=torch.Generator().manual_seed(0),
        output_type="np",
    ).images


def apply_offload(pipe, mode: str, keep: tuple[str, ...] = ()):
    """Set up ``mode`` ("none", "model" or "sequential") with the real
    hooks and return the components resident on the accelerator side
    before a call, for ``Trace``.

    "model" is diffusers' ``enable_model_cpu_offload(device="cpu")``.
    "sequential" is the loop of diffusers' ``enable_sequential_cpu_offload``
    with the execution device ``cpu``: accelerate's ``cpu_offload`` for each
    component, except those in ``keep``, which stay where they are (in
    diffusers, the ``_exclude_from_cpu_offload`` branch)."""
    from accelerate import cpu_offload

    names = tuple(components(pipe))
    if mode == "none":
        return names
    if mode == "model":
        pipe.enable_model_cpu_offload(device="cpu")
        return ()
    if mode != "sequential":
        raise ValueError(f"unknown offload mode {mode!r}")
    for name, model in components(pipe).items():
        if name not in keep:
            buffers = len(model._parameters) > 0
            cpu_offload(model, torch.device("cpu"), offload_buffers=buffers)
    return tuple(keep)


def mib(n: int) -> str:
    """Bytes as MiB with two decimals."""
    return f"{n / 2**20:.2f}"
