"""Run one function of a package that is installed but cannot be imported.

DiffSynth-Studio is installed without its dependencies (it requires
torchvision, and requirements-quoted.txt records that the only torchvision
wheel on PyPI for the pinned torch is a CUDA build that cannot load beside
the CPU torch), so ``import diffsynth`` fails on the build machine. A page
can still run a self-contained function of it: ``load_function`` reads the
function's lines from the installed file (found the way ``{{ source }}``
finds them), compiles only those lines, and returns the function. Tracebacks
name the installed file and its real line numbers. The snippet's cache entry
then depends on the package's installed version.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from infralens.engine.library import Library, Quoted


@dataclass(frozen=True)
class QuotedFunction:
    fn: object  # the compiled function
    quoted: Quoted  # where its lines came from

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def label(self) -> str:
        q = self.quoted
        return f"{q.dist} {q.version}, {q.repo_path} lines {q.first}-{q.last}"


def load_function(target: str, namespace: dict | None = None):
    """``MODULE:QUALNAME`` of a function or method, compiled from the
    installed file alone. ``namespace`` supplies the globals it uses."""
    q = Library().quote(target, (target, None))
    tree = ast.parse(textwrap.dedent(q.text(q.first, q.last)))
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise TypeError(f"{target} is not a function")
    ast.increment_lineno(tree, q.first - 1)
    scope = dict(namespace or {})
    exec(compile(tree, q.repo_path, "exec"), scope)
    return QuotedFunction(scope[tree.body[0].name], q)


def assigned_keywords(target: str, call: str) -> dict:
    """Constant keyword arguments of the first call to ``call`` inside
    the installed source of ``target`` (e.g. the settings a class passes
    to ``super().__init__``), read without running anything."""
    q = Library().quote(target, (target, None))
    tree = ast.parse(textwrap.dedent(q.text(q.first, q.last)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == call:
            return {
                kw.arg: ast.literal_eval(kw.value)
                for kw in node.keywords
                if kw.arg and isinstance(kw.value, ast.Constant)
            }
    raise LookupError(f"{target} makes no call to {call}")
