"""Run snippets through the worker, with a cache keyed on every input.

A cache entry holds what a run printed, drew and glued, plus the inputs it
was made from: the snippet's bytes, the project modules it imported, the
project files it read (a model folder counts whole), the versions of the
packages it imports (and what they require), the Python version and the
engine's own source. An entry is reused only while every one of those is
unchanged, so a prose-only edit reruns nothing and a changed input reruns
exactly the snippets that used it.

Any number of builds may share one cache: each run writes its images into
a folder of its own, and entries and images are written atomically. What
is read back is checked: an entry that does not have the expected shape,
or whose images do not match their hashes, is discarded with a warning
and the snippet runs again.
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
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from infralens.engine import ENGINE_VERSION, source
from infralens.engine.source import SnippetError
from infralens.engine.state import ALT_MAX, IMAGE_NAME_RE

log = logging.getLogger("mkdocs.plugins.infralens")
# Cache repairs are reported, but are no reason for a strict build to
# stop: the damaged entry is never used, the snippet simply runs again.
cache_log = logging.getLogger("infralens.cache")
if not cache_log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("WARNING -  %(message)s"))
    cache_log.addHandler(_handler)
    cache_log.propagate = False

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
    "child.py",
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
    images: list[dict]  # {"name", "chunk", "alt", "sha", "path"}
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
        # the worker runs this engine, whichever copy of the project an
        # installed package points at
        checkout = str(ENGINE_DIR.parent.parent)
        path = [checkout, *filter(None, [env.get("PYTHONPATH")])]
        env.update(
            PYTHONPATH=os.pathsep.join(path),
            PYTHONHASHSEED="0",
            OMP_NUM_THREADS="2",
            # idle OpenMP threads sleep instead of spinning: with other
            # processes on the cores, spinning threads slowed snippets
            # tens of times; the numbers they compute are the same
            OMP_WAIT_POLICY="PASSIVE",
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


_WORKERS: dict[tuple[str, str], WorkerProcess] = {}


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
    memory_limit_mb: float = 4096.0
    seal: bool = True  # read-only repository mount, where the OS allows
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
        self._sealing_works = False

    # -- workers ---------------------------------------------------------
    def worker(self) -> WorkerProcess:
        key = (str(self.root), self._engine_hash)
        for old in [k for k in _WORKERS if k[0] == key[0] and k != key]:
            _WORKERS.pop(old).kill()  # the engine changed (mkdocs serve)
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

    def _image_path(self, sha: str) -> Path:
        return self.cache_dir / "images" / (sha + ".png")

    def _discard(self, relpath: str, path: Path, why: str) -> None:
        cache_log.warning(
            "infralens: cache entry of %s discarded (%s); running it again",
            relpath,
            why,
        )
        path.unlink(missing_ok=True)

    def _lookup(self, relpath: str, snippet_sha: str) -> dict | None:
        path = self._entry_path(relpath)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._discard(relpath, path, f"unreadable: {exc}")
            return None
        if isinstance(entry, dict) and entry.get("key") != self._base_key():
            return None  # made by another engine version or Python
        problem = entry_problem(entry)
        if problem:
            self._discard(relpath, path, problem)
            return None
        if entry["key"] != self._base_key() or entry["snippet"] != snippet_sha:
            return None
        for rel, sha in entry["deps"].items():
            p = self.root / rel
            if not p.is_file() or sha256_file(p) != sha:
                return None
        if self._package_versions(entry["import_names"]) != entry["packages"]:
            return None
        for im in entry["result"]["images"]:
            image = self._image_path(im["sha"])
            if not image.is_file():
                return None
            if sha256_file(image) != im["sha"]:
                image.unlink(missing_ok=True)
                self._discard(relpath, path, f"image {im['name']} damaged")
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
        out_dir = Path(tempfile.mkdtemp(prefix="infralens-run-"))
        try:
            return self._run_in(relpath, path, snippet_sha, out_dir)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def _run_in(self, relpath, path, snippet_sha, out_dir: Path) -> dict:
        req = {
            "path": str(path),
            "root": str(self.root),
            "out_dir": str(out_dir),
            "output_limit": self.output_limit,
            "timeout": self.timeout,
            "memory_limit_mb": self.memory_limit_mb,
            "seal": self.seal,
        }
        # until a run has shown that the read-only mount works here, the
        # repository is compared before and after each run
        watch = not self._sealing_works
        before = repository_state(self) if watch else None
        saved = saved_contents(self.root, before) if watch else None
        try:
            resp = self.worker().request(req, self.timeout + 60)
        except TimeoutError:
            raise SnippetError(
                relpath,
                None,
                f"timed out after {self.timeout:g} s (the worker was stopped)",
            ) from None
        except (ChildProcessError, RuntimeError) as exc:
            raise SnippetError(relpath, None, str(exc)) from None
        self._sealing_works = bool(resp.get("sealed"))
        if before is not None and not resp.get("sealed"):
            changed = changed_files(before, repository_state(self))
            if changed:
                restore(self.root, changed, saved)
                raise SnippetError(
                    relpath,
                    None,
                    "snippets may only read the repository, and this "
                    "run changed: " + ", ".join(changed) + " (restored)",
                )
        if not resp["ok"]:
            err = resp["error"]
            raise SnippetError(
                relpath,
                err.get("line"),
                err["message"],
                err.get("traceback", ""),
            )
        problem = response_problem(resp)
        if problem:
            raise SnippetError(relpath, None, problem)
        images = []
        for name, chunk, alt in resp["images"]:
            src = out_dir / name
            if not src.is_file():
                raise SnippetError(
                    relpath, None, f"image {name} was saved, then removed"
                )
            sha = sha256_file(src)
            _atomic_copy(src, self._image_path(sha))
            images.append(
                {"name": name, "chunk": chunk, "alt": alt, "sha": sha}
            )
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
        atomic_write(
            self._entry_path(relpath),
            json.dumps(entry, indent=1).encode("utf-8"),
        )
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


# -- checking what is read and written -----------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file that readers see whole or not at all, whatever other
    builds sharing the cache do at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_copy(src: Path, dst: Path) -> None:
    if dst.is_file() and sha256_file(dst) == dst.stem:
        return
    atomic_write(dst, src.read_bytes())


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_str_dict(value, keys=str) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, keys) for k, v in value.items()
    )


def _images_problem(images, item) -> str | None:
    if not isinstance(images, list):
        return "images is not a list"
    for im in images:
        name, alt = item(im)
        if not isinstance(name, str) or not IMAGE_NAME_RE.fullmatch(name):
            return f"image name {name!r} is not a plain '*.png' name"
        if not isinstance(alt, str) or not alt.strip():
            return (
                f"image {name} was saved without alt text: pass "
                'alt="what the figure shows" to save_figure / save_image'
            )
        if len(alt) > ALT_MAX:
            return f"alt text of image {name} is over {ALT_MAX} characters"
    return None


def entry_problem(entry) -> str | None:
    """What is wrong with the shape of a cache entry, or None."""
    if not isinstance(entry, dict):
        return "not an object"
    kinds = {
        "key": dict,
        "snippet": str,
        "deps": dict,
        "import_names": list,
        "packages": dict,
        "result": dict,
    }
    for name, kind in kinds.items():
        if not isinstance(entry.get(name), kind):
            return f"field {name!r} missing or of the wrong type"
    if not _is_str_dict(entry["deps"]) or not _is_str_list(
        entry["import_names"]
    ):
        return "deps or import_names malformed"
    res = entry["result"]
    if not _is_str_list(res.get("chunks")):
        return "result chunks malformed"
    if not _is_str_dict(res.get("glue")):
        return "result glue malformed"
    if not isinstance(res.get("seconds"), (int, float)):
        return "result seconds malformed"
    problem = _images_problem(
        res.get("images"),
        lambda im: (
            (im.get("name"), im.get("alt"))
            if isinstance(im, dict)
            else (None, None)
        ),
    )
    if problem:
        return problem
    for im in res["images"]:
        if not (
            isinstance(im.get("chunk"), int)
            and isinstance(im.get("sha"), str)
            and re.fullmatch(r"[0-9a-f]{64}", im["sha"])
        ):
            return "image record malformed"
    return None


def response_problem(resp: dict) -> str | None:
    """What is wrong with what the worker sent back (a snippet can tamper
    with the engine's records in its own process), or None."""
    if not _is_str_list(resp.get("chunks")):
        return "the run's output is malformed"
    if not _is_str_dict(resp.get("glue")):
        return "glued values must be text"
    if not all(name.isidentifier() for name in resp["glue"]):
        return "glue names must be identifiers"
    problem = _images_problem(
        resp.get("images"),
        lambda im: (
            (im[0], im[2])
            if isinstance(im, list) and len(im) == 3
            else (None, None)
        ),
    )
    if problem:
        return problem
    if not all(isinstance(c, int) for _, c, _ in resp["images"]):
        return "image records are malformed"
    if not all(
        _is_str_list(resp.get(k)) for k in ("modules", "files", "packages")
    ):
        return "the run's input records are malformed"
    return None


SKIPPED_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", "site"}


def repository_state(engine) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file of the repository a snippet must only
    read: all but the cache, the built site and tool caches."""
    found = {}
    cache = engine.cache_dir.resolve()
    for dirpath, dirnames, filenames in os.walk(engine.root):
        here = Path(dirpath)
        dirnames[:] = [
            d
            for d in dirnames
            if d not in SKIPPED_DIRS and (here / d).resolve() != cache
        ]
        for name in filenames:
            p = here / name
            try:
                st = p.lstat()
            except OSError:
                continue
            rel = p.relative_to(engine.root).as_posix()
            found[rel] = (st.st_size, st.st_mtime_ns)
    return found


def changed_files(before: dict, after: dict) -> list[str]:
    return sorted(
        rel
        for rel in before.keys() | after.keys()
        if before.get(rel) != after.get(rel)
    )


def saved_contents(root: Path, state: dict) -> dict[str, bytes]:
    """The bytes of every regular file in ``state``, to put back what a
    run changes where the read-only mount is not available."""
    saved = {}
    for rel in state:
        p = root / rel
        if p.is_file() and not p.is_symlink():
            saved[rel] = p.read_bytes()
    return saved


def restore(root: Path, changed: list[str], saved: dict[str, bytes]):
    """Put changed files back as they were and remove files a run added."""
    for rel in changed:
        p = root / rel
        if rel in saved:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(saved[rel])
        elif p.is_file() or p.is_symlink():
            p.unlink()
