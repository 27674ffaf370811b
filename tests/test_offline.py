"""The site builds with no network.

That two runs of a snippet print identical bytes, and that parallel
workers print what one worker prints, is checked by
``scripts/benchmark_build.py``, which runs every snippet twice from an
empty cache; a test session runs each snippet once.
"""

from __future__ import annotations

import pytest
from conftest import OFFLINE_PREFIX


def test_site_was_built_without_network(built_site):
    if not OFFLINE_PREFIX:
        pytest.skip("this machine cannot create a network namespace")
    # built_site ran `unshare -n mkdocs build`; it only exists if that passed
    assert (built_site / "index.html").is_file()
