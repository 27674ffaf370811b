"""pytest runs every snippet file through the engine the site build uses.

Snippets assert the claims their pages make, so a snippet that runs clean
here is a page whose claims hold. Results share the build's cache: a
snippet is re-run exactly when one of its inputs changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.engine.runner import Engine, shutdown_workers
from infralens.engine.source import SnippetError

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = sorted(
    p.relative_to(ROOT).as_posix()
    for p in (ROOT / "snippets").rglob("*.py")
    if "__pycache__" not in p.parts and not p.name.startswith("_")
)


@pytest.fixture(scope="module")
def engine():
    eng = Engine(root=ROOT, cache_dir=ROOT / ".cache" / "infralens")
    yield eng
    shutdown_workers()


@pytest.mark.parametrize("relpath", SNIPPETS)
def test_snippet_runs_and_its_assertions_hold(engine, relpath):
    try:
        result = engine.result(relpath)
    except SnippetError as exc:
        pytest.fail(f"{exc}\n{exc.detail}")
    assert "Traceback" not in "".join(result.chunks)
