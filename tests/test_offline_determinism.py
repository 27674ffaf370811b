"""The site builds with no network, and snippet outputs are reproducible."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import OFFLINE_PREFIX

from infralens.engine.runner import Engine, shutdown_workers

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = sorted(
    p.relative_to(ROOT).as_posix()
    for p in (ROOT / "snippets").rglob("*.py")
    if "__pycache__" not in p.parts and not p.name.startswith("_")
)


def test_site_was_built_without_network(built_site):
    if not OFFLINE_PREFIX:
        pytest.skip("this machine cannot create a network namespace")
    # built_site ran `unshare -n mkdocs build`; it only exists if that passed
    assert (built_site / "index.html").is_file()


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    shared = Engine(root=ROOT, cache_dir=ROOT / ".cache" / "infralens")
    fresh = Engine(root=ROOT, cache_dir=tmp_path_factory.mktemp("cache"))
    yield shared, fresh
    shutdown_workers()


# Snippets that measure the machine: the seconds or resident bytes they
# print, glue and plot differ from run to run by design, and their pages say
# so. Their lab tests check what in them is deterministic (calls, batch
# sizes, counted activation bytes).
MEASURED = {
    "snippets/diffsynth/lab04_scheduler_loop_reading/05_latency.py",
    "snippets/diffsynth/lab10_end_to_end_inference_trace/"
    "end_to_end_inference_trace.py",
    # Lab 02 prints the load time of each component
    "snippets/diffsynth/lab02_model_loading_path/01_trace_load.py",
    "snippets/diffsynth/lab02_model_loading_path/04_meta_init.py",
    "snippets/diffsynth/lab02_model_loading_path/model_loading_path.py",
    # resident memory of this process while a small video VAE decodes
    "snippets/diffsynth/lab06_video_latent_frame_dimension/"
    "05_memory_measured.py",
    # resident memory of a fresh process decoding one image (Lab 07)
    "snippets/diffsynth/lab07_vae_encode_decode/09_memory.py",
}


def fingerprint(result) -> tuple:
    images = [
        (
            im["name"],
            im["chunk"],
            im["alt"],
            hashlib.sha256(Path(im["path"]).read_bytes()).hexdigest(),
        )
        for im in result.images
    ]
    return result.chunks, result.glue, images


@pytest.mark.parametrize("relpath", SNIPPETS)
def test_two_runs_print_identical_bytes(engines, relpath):
    if relpath in MEASURED:
        pytest.skip("measures time or resident memory: differs on every run")
    shared, fresh = engines
    first = shared.result(relpath)
    second = fresh.result(relpath)
    assert not second.cached
    assert fingerprint(first) == fingerprint(second)
