"""Run snippets through the worker, with a cache keyed on every input.

A cache entry holds what a run printed, drew and glued, plus the inputs it
was made from: the snippet's bytes, the project modules it imported, the
project files it read (a model folder counts whole), the versions of the
packages it imports (and what they require), the Python version and the
engine's own source. An entry is reused only while every one of those is
unchanged, so a prose-only edit reruns nothing and a changed input reruns
exactly the snippets that used it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from infralens.engine import ENGINE_VERSION, source
from infralens.engine.source import SnippetError

log = logging.getLogger("mkdocs.plugins.infralens")

ENGINE_DIR = Path(__file__).resolve().parent
MODEL_FILE_SUFFIXES = {".json", ".safetensors", ".bin", ".pt", ".pth"}


_HASHES: dict[tuple, str] = {}


def sha256_file(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


# The engine files that decide what a run produces. Rendering (pages.py,
# notebook.py) happens on every build from cached results, so editing it
# reruns no snippet.
EXECUTION_FILES = (
    "__init__.py",
    "source.py",
    "state.py",
    "worker.py",
    "runner.py",
)


def engine_hash() -> str:
    h = hashlib.sha256(ENGINE_VERSION.encode())
    for p in sorted(ENGINE_DIR / name for name in EXECUTION_FILES):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def installed_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Result:
    relpath: str
    snippet: source.Snippet
    chunks: list[str]
    images: list[dict]  # {"name", "chunk", "sha", "path"}
    glue: dict[str, str]
    seconds: float
    cached: bool

    def output(self, region: str | None = None) -> str:
        ids = self.snippet.chunk_ids(region)
        return "".join(self.chunks[i] for i in ids if i < len(self.chunks))

    def images_for(self, region: str | None = None) -> list[dict]:
        ids = set(self.snippet.chunk_ids(region))
        return [im for im in self.images if im["chunk"] in ids]


class WorkerProcess:
    """One long-lived ``python -m infralens.engine.worker``."""

    def __init__(self, root: Path, preload: tuple[str, ...]):
        env = dict(os.environ)
        env.update(
            PYTHONHASHSEED="0",
            OMP_NUM_THREADS="2",
            MKL_NUM_THREADS="2",
            MPLBACKEND="Agg",
            HF_HUB_OFFLINE="1",
            HF_HUB_DISABLE_TELEMETRY="1",
            TQDM_DISABLE="1",
            PYTHONUNBUFFERED="1",
            INFRALENS_PRELOAD=",".join(preload),
        )
        self.root = root
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infralens.engine.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env=env,
            start_new_session=True,
        )
        self.ready = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _readline(self, timeout: float) -> bytes | None:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                return None
        finally:
            sel.close()
        return self.proc.stdout.readline()

    def request(self, req: dict, timeout: float) -> dict:
        if not self.ready:
            line = self._readline(300)
            if not line:
                raise RuntimeError("the snippet worker failed to start")
            self.ready = True
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        line = self._readline(timeout)
        if line is None:
            self.kill()
            raise TimeoutError
        if not line:
            code = self.proc.wait()
            raise ChildProcessError(
                f"the worker process died (exit code "
                f"{code}) while running the snippet"
            )
        return json.loads(line)

    def kill(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


_WORKERS: dict[str, WorkerProcess] = {}


def shutdown_workers() -> None:
    for w in _WORKERS.values():
        w.kill()
    _WORKERS.clear()


@dataclass
class Engine:
    root: Path
    cache_dir: Path
    snippets_dir: Path | None = None
    timeout: float = 120.0
    output_limit: int = 200_000
    preload: tuple[str, ...] = ("torch", "diffusers", "infralens.preload")
    version_of: object = installed_version
    stats: dict = field(
        default_factory=lambda: {"ran": 0, "cached": 0, "run_seconds": 0.0}
    )

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        self.cache_dir = Path(self.cache_dir)
        if not self.cache_dir.is_absolute():
            self.cache_dir = self.root / self.cache_dir
        self.snippets_dir = Path(self.snippets_dir or self.root / "snippets")
        self._engine_hash = engine_hash()
        self._dists: dict | None = None
        self._dist_cache: dict[str, tuple] = {}

    # -- workers ---------------------------------------------------------
    def worker(self) -> WorkerProcess:
        key = str(self.root)
        w = _WORKERS.get(key)
        if w is None or not w.alive():
            w = _WORKERS[key] = WorkerProcess(self.root, self.preload)
        return w

    def start_worker(self) -> None:
        """Start the worker early so its imports overlap other work."""
        self.worker()

    # -- cache keys ------------------------------------------------------
    def _dist_info(self, dist: str):
        """(version, installed requirement names) of one distribution,
        looked up once per engine: reading metadata is slow."""
        key = re.sub(r"[-_.]+", "-", dist).lower()
        if key not in self._dist_cache:
            try:
                reqs = metadata.requires(dist) or []
            except metadata.PackageNotFoundError:
                reqs = []
            names = []
            for req in reqs:
                if "extra" in req.partition(";")[2]:
                    continue
                m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
                if m and installed_version(m.group(1)) is not None:
                    names.append(m.group(1))
            self._dist_cache[key] = (self.version_of(dist), names)
        return key, self._dist_cache[key]

    def _package_versions(self, names) -> dict[str, str | None]:
        if self._dists is None:
            self._dists = metadata.packages_distributions()
        todo = []
        for name in names:
            if (self.root / name).exists():
                continue  # the project's own package
            todo.extend(self._dists.get(name, []))
        seen: dict[str, str | None] = {}
        while todo:
            key, (version, reqs) = self._dist_info(todo.pop())
            if key in seen:
                continue
            seen[key] = version
            todo.extend(reqs)
        return dict(sorted(seen.items()))

    def _deps(self, modules, files) -> dict[str, str]:
        paths = {Path(p) for p in modules}
        for f in map(Path, files):
            paths.add(f)
            if (f.parent / "config.json").exists():
                paths.update(
                    p
                    for p in f.parent.iterdir()
                    if p.suffix in MODEL_FILE_SUFFIXES
                )
        deps = {}
        for p in sorted(paths):
            if p.is_file():
                deps[p.relative_to(self.root).as_posix()] = sha256_file(p)
        return deps

    def _base_key(self) -> dict:
        return {
            "engine": self._engine_hash,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }

    def _entry_path(self, relpath: str) -> Path:
        return (
            self.cache_dir / "entries" / (relpath.replace("/", "__") + ".json")
        )

    def _lookup(self, relpath: str, snippet_sha: str) -> dict | None:
        path = self._entry_path(relpath)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            entry.get("key") != self._base_key()
            or entry.get("snippet") != snippet_sha
        ):
            return None
        for rel, sha in entry["deps"].items():
            p = self.root / rel
            if not p.is_file() or sha256_file(p) != sha:
                return None
        if self._package_versions(entry["import_names"]) != entry["packages"]:
            return None
        for im in entry["result"]["images"]:
            if not (
                self.cache_dir / "images" / (im["sha"] + ".png")
            ).is_file():
                return None
        return entry

    # -- running ---------------------------------------------------------
    def result(self, relpath: str) -> Result:
        """Run one snippet (path relative to the project root), or reuse
        its cached result. Raises SnippetError on any failure."""
        path = self.root / relpath
        if not path.is_file():
            raise SnippetError(relpath, None, "snippet file not found")
        snip = source.parse(path)
        snippet_sha = sha256_file(path)
        entry = self._lookup(relpath, snippet_sha)
        cached = entry is not None
        if entry is None:
            entry = self._run(relpath, path, snippet_sha)
        res = entry["result"]
        images = [
            dict(
                im, path=str(self.cache_dir / "images" / (im["sha"] + ".png"))
            )
            for im in res["images"]
        ]
        result = Result(
            relpath,
            snip,
            res["chunks"],
            images,
            res["glue"],
            res["seconds"],
            cached,
        )
        self.stats["cached" if cached else "ran"] += 1
        if not cached:
            self.stats["run_seconds"] += res["seconds"]
        log.info(
            "snippet %s: %.2f s (%s)",
            relpath,
            res["seconds"],
            "cached" if cached else "ran",
        )
        return result

    def _run(self, relpath: str, path: Path, snippet_sha: str) -> dict:
        out_dir = self.cache_dir / "run-output"
        shutil.rmtree(out_dir, ignore_errors=True)
        req = {
            "path": str(path),
            "root": str(self.root),
            "out_dir": str(out_dir),
            "output_limit": self.output_limit,
        }
        try:
            resp = self.worker().request(req, self.timeout)
        except TimeoutError:
            raise SnippetError(
                relpath,
                None,
                f"timed out after {self.timeout:g} s (the worker was stopped)",
            ) from None
        except (ChildProcessError, RuntimeError) as exc:
            raise SnippetError(relpath, None, str(exc)) from None
        if not resp["ok"]:
            err = resp["error"]
            raise SnippetError(
                relpath,
                err.get("line"),
                err["message"],
                err.get("traceback", ""),
            )
        images = []
        img_dir = self.cache_dir / "images"
        img_dir.mkdir(parents=True, exist_ok=True)
        for name, chunk in resp["images"]:
            src = out_dir / name
            sha = sha256_file(src)
            shutil.copyfile(src, img_dir / (sha + ".png"))
            images.append({"name": name, "chunk": chunk, "sha": sha})
        entry = {
            "key": self._base_key(),
            "snippet": snippet_sha,
            "deps": self._deps(resp["modules"], resp["files"]),
            "import_names": resp["packages"],
            "packages": self._package_versions(resp["packages"]),
            "result": {
                "chunks": resp["chunks"],
                "images": images,
                "glue": resp["glue"],
                "seconds": resp["seconds"],
            },
        }
        entry_path = self._entry_path(relpath)
        entry_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry, indent=1), encoding="utf-8")
        os.replace(tmp, entry_path)
        return entry

    def run_all(
        self, relpaths
    ) -> tuple[dict[str, Result], list[SnippetError]]:
        results, errors = {}, []
        for rel in sorted(set(relpaths)):
            try:
                results[rel] = self.result(rel)
            except SnippetError as exc:
                errors.append(exc)
        return results, errors
