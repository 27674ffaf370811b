"""Every snippet file ran clean in the session's site build.

Snippets assert the claims their pages make, so a snippet that ran clean
is a page whose claims hold. The results are the session build's, read
from its cache: no snippet runs twice in a test session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infralens.engine.source import SnippetError

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = sorted(
    p.relative_to(ROOT).as_posix()
    for p in (ROOT / "snippets").rglob("*.py")
    if "__pycache__" not in p.parts and not p.name.startswith("_")
)


@pytest.fixture(scope="module")
def engine(site_results):
    return site_results


@pytest.mark.parametrize("relpath", SNIPPETS)
def test_snippet_runs_and_its_assertions_hold(engine, relpath):
    try:
        result = engine.result(relpath)
    except SnippetError as exc:
        pytest.fail(f"{exc}\n{exc.detail}")
    assert "Traceback" not in "".join(result.chunks)
