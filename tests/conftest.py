"""Shared fixtures: toy projects for engine tests, and one real site build."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infralens import sitecheck

ROOT = Path(__file__).resolve().parent.parent
# builds of toy projects use this checkout's plugin, whichever copy of the
# project an editable install points at
ENV = dict(
    os.environ,
    NO_MKDOCS_2_WARNING="1",
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    ),
)


def _can_unshare_network() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


# Where the machine allows it (root, or user namespaces), the session's site
# build runs in a network namespace with no interfaces but loopback down.
OFFLINE_PREFIX = ["unshare", "-n"] if _can_unshare_network() else []

TOY_MKDOCS = """\
site_name: Toy
strict: true
theme:
  name: material
  font: false
plugins:
  - infralens:
      preload: []
      timeout: {timeout}
      output_limit: 100000
markdown_extensions:
  - admonition
  - attr_list
  - pymdownx.highlight
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
"""


class ToyProject:
    """A throwaway MkDocs project with its own snippets and cache."""

    def __init__(self, root: Path, timeout: int = 10):
        self.root = root
        self.engines = []
        (root / "docs").mkdir(parents=True)
        (root / "snippets").mkdir()
        self.write("mkdocs.yml", TOY_MKDOCS.format(timeout=timeout))

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def build(self, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", *extra],
            cwd=self.root,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def build_page(self) -> str:
        """Build; the build must succeed. Returns the home page's HTML."""
        proc = self.build()
        assert proc.returncode == 0, proc.stderr
        return (self.root / "site/index.html").read_text()

    def engine(self, **kw):
        """An engine for the toy project; its workers stop when the test
        that made it ends."""
        from infralens.engine.run import Engine

        kw.setdefault("preload", ())
        kw.setdefault("timeout", 10)
        eng = Engine(root=self.root, cache_dir=self.root / ".cache", **kw)
        self.engines.append(eng)
        return eng

    def close(self) -> None:
        for eng in self.engines:
            eng.close()


class ServeSession:
    """Rebuilds as `mkdocs serve` makes them: in this process, the
    configuration loaded again for each build, into one site folder, the
    plugins started once."""

    def __init__(self, toy, dirty: bool):
        self.toy, self.dirty, self.started = toy, dirty, False

    def build(self):
        from mkdocs.commands.build import build
        from mkdocs.config import load_config

        config = load_config(
            config_file=str(self.toy.root / "mkdocs.yml"),
            site_dir=str(self.toy.root / "site"),
            strict=not self.dirty,  # `serve --dirty --no-strict`
        )
        if not self.started:
            config.plugins.on_startup(command="serve", dirty=self.dirty)
            self.started = True
        build(config, dirty=self.dirty)
        return config

    def page(self, name="index.html") -> str:
        return (self.toy.root / "site" / name).read_text()


@pytest.fixture
def toy(tmp_path):
    project = ToyProject(tmp_path / "toy")
    yield project
    project.close()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The real site, built once for the session with the real config."""
    site = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [
            *OFFLINE_PREFIX,
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return site


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: needs Chromium; runs after the other tests"
    )


def pytest_collection_modifyitems(config, items):
    # the browser tests last: the site audit (below) runs in the
    # background while the others run
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def site_url(built_site):
    """The session's site, served on 127.0.0.1."""
    with sitecheck.serve(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session's browser tests."""
    with sitecheck.chromium() as b:
        yield b


ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = {  # saved by the audit, light palette, as loaded
    "tracks/diffsynth/labs/lab-07-vae-encode-decode/": "lab-07",
    "tracks/diffsynth/handbook/vae-encode-decode/": "handbook-vae",
}


@pytest.fixture(scope="session")
def site_audit(built_site, site_url):
    """The page-by-page browser checks of ``sitecheck.plan`` on the
    session's site, running in background browsers: a future whose result
    is the list of page reports (None without Chromium or axe-core)."""
    if sitecheck.missing_tools() is not None:
        yield None
        return
    checks = [
        dataclasses.replace(
            c,
            screenshot=ARTIFACTS / f"{SCREENSHOTS[c.page]}-{c.viewport}.png",
        )
        if c.page in SCREENSHOTS and c.scheme == "light"
        else c
        for c in sitecheck.plan(sitecheck.site_pages(built_site))
    ]
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(sitecheck.sweep, site_url, checks, stop=stop)
        yield future
        stop.set()  # a session that ends early does not wait for the rest


@pytest.fixture(scope="session", autouse=True)
def start_site_audit_early(request):
    """Start ``site_audit`` with the session's first test when a selected
    test reads it, so that the browsers work while the other tests run
    (the browser tests run last)."""
    items = request.session.items
    if any("site_audit" in item.fixturenames for item in items):
        request.getfixturevalue("site_audit")


@pytest.fixture(scope="session")
def site_results(built_site):
    """The results of the session's site build, read from its cache: a
    snippet runs once per test session, in that build, and tests that
    check its outputs read them here (a snippet without a current result
    is an error, never a second run)."""
    from infralens.engine import settings

    opts = settings.load(ROOT)
    with opts.engine(ROOT, cache_only=True) as engine:
        yield engine


# Toy pages and failing builds, shared by the engine tests.
def page(toy, body, folder="demo"):
    toy.write(
        "docs/index.md", f"---\nsnippets: {folder}\n---\n# Page\n\n{body}\n"
    )


def assert_build_fails(toy, *needles):
    proc = toy.build()
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for needle in needles:
        assert needle in out, out
    assert not (toy.root / "site" / "index.html").exists()
    return out


def run_offline(code: str) -> subprocess.CompletedProcess:
    """Run Python ``code`` in a fresh process with the Hugging Face hub
    switched offline: what loads there needs nothing from the network."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def train_twice(tmp_path: Path, script: str, *args: str):
    """Run ``scripts/<script>`` twice with ``args`` and ``--out`` a fresh
    folder each time (training must be reproducible from its seed):
    the two output folders and the two runs' standard output."""
    outs, stdouts = [], []
    for run in ("a", "b"):
        out = tmp_path / run
        proc = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / script), *args]
            + ["--out", str(out)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(out)
        stdouts.append(proc.stdout)
    return outs, stdouts
