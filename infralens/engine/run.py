"""Run snippets, or take their results from the cache.

``Engine`` is a context manager that owns its worker processes: it starts
them when a snippet has to run (one per core by default), hands each
snippet to an idle one, and stops them all when it closes. Snippets are
independent (each runs in a fresh child of a worker, and may only read
the repository), so the order and the number of workers change how long
a build takes, never what a snippet prints.

    with Engine(root=ROOT, cache_dir=ROOT / ".cache/infralens") as engine:
        results, errors = engine.run_all(["snippets/a.py", "snippets/b.py"])
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from infralens.engine import source
from infralens.engine.cache import Cache, installed_version, sha256_file
from infralens.engine.records import CacheEntry, Result, response_problem
from infralens.engine.settings import Settings
from infralens.engine.source import SnippetError
from infralens.engine.workers import WorkerProcess

log = logging.getLogger("mkdocs.plugins.infralens")
DEFAULTS = Settings()


class Found(NamedTuple):
    """A snippet looked up in the cache: its current entry, or None."""

    relpath: str
    snippet: source.Snippet
    sha: str
    entry: CacheEntry | None


@dataclass
class Engine:
    root: Path
    cache_dir: Path
    snippets_dir: Path | None = None
    # defaults from the one settings table
    timeout: float = DEFAULTS.timeout
    output_limit: int = DEFAULTS.output_limit
    memory_limit_mb: float = DEFAULTS.memory_limit_mb
    seal: bool = True  # read-only repository mount, where the OS allows
    preload: tuple[str, ...] = DEFAULTS.preload
    jobs: int = DEFAULTS.jobs  # worker processes; 0: one per core
    # read results from the cache only: a snippet without a current entry
    # is an error instead of a run (tests read the session build's results)
    cache_only: bool = False
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
        self.jobs = self.jobs or os.cpu_count() or 1
        self.cache = Cache(self.root, self.cache_dir, self.version_of)
        self._idle: queue.SimpleQueue[WorkerProcess] = queue.SimpleQueue()
        self._started: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._sealing_works = False

    # -- workers ---------------------------------------------------------
    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker this engine started."""
        with self._lock:
            started, self._started = self._started, []
        for w in started:
            w.kill()
        self._idle = queue.SimpleQueue()

    def _take_worker(self) -> WorkerProcess:
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            if w.alive():
                return w
        with self._lock:
            w = WorkerProcess(self.root, self.preload)
            self._started.append(w)
        return w

    def _give_back(self, w: WorkerProcess) -> None:
        if w.alive():
            self._idle.put(w)

    # -- one snippet -----------------------------------------------------
    def result(self, relpath: str) -> Result:
        """Run one snippet (path relative to the project root), or reuse
        its cached result. Raises SnippetError on any failure."""
        return self._finish(self._look_up(relpath))

    def _look_up(self, relpath: str) -> Found:
        path = self.root / relpath
        if not path.is_file():
            raise SnippetError(relpath, None, "snippet file not found")
        snippet_sha = sha256_file(path)
        entry = self.cache.lookup(relpath, snippet_sha)
        return Found(relpath, source.parse(path), snippet_sha, entry)

    def _finish(self, found: Found) -> Result:
        """The result of a looked-up snippet, running it when the cache
        has no current entry."""
        relpath, snip, snippet_sha, entry = found
        cached = entry is not None
        if entry is None and self.cache_only:
            raise SnippetError(
                relpath,
                None,
                "has no current result in the cache (this "
                "engine only reads results; build the site to make them)",
            )
        if entry is None:
            entry = self._run(relpath, self.root / relpath, snippet_sha)
        with self._lock:
            self.stats["cached" if cached else "ran"] += 1
            if not cached:
                self.stats["run_seconds"] += entry.seconds
        log.info(
            "snippet %s: %.2f s (%s)",
            relpath,
            entry.seconds,
            "cached" if cached else "ran",
        )
        return Result(
            relpath,
            snip,
            entry.chunks,
            tuple(self.cache.image(im) for im in entry.images),
            entry.glue,
            entry.seconds,
            cached,
        )

    def _run(self, relpath: str, path: Path, snippet_sha: str) -> CacheEntry:
        out_dir = Path(tempfile.mkdtemp(prefix="infralens-run-"))
        try:
            return self._run_in(relpath, path, snippet_sha, out_dir)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def _request(self, req: dict, relpath: str) -> dict:
        w = self._take_worker()
        try:
            return w.request(req, self.timeout + 60)
        except TimeoutError:
            raise SnippetError(
                relpath,
                None,
                f"timed out after {self.timeout:g} s (the worker was stopped)",
            ) from None
        except (ChildProcessError, RuntimeError) as exc:
            raise SnippetError(relpath, None, str(exc)) from None
        finally:
            self._give_back(w)

    def _run_in(self, relpath, path, snippet_sha, out_dir: Path) -> CacheEntry:
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
        # repository is compared before and after each run (run_all runs
        # one snippet at a time until then)
        watch = not self._sealing_works
        before = repository_state(self) if watch else None
        saved = saved_contents(self.root, before) if watch else None
        resp = self._request(req, relpath)
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
            sha = self.cache.add_image(src)
            images.append(
                {"name": name, "chunk": chunk, "alt": alt, "sha": sha}
            )
        entry = CacheEntry(
            key=self.cache.key,
            snippet=snippet_sha,
            deps=self.cache.deps(resp["modules"], resp["files"]),
            import_names=tuple(resp["packages"]),
            packages=self.cache.package_versions(resp["packages"]),
            chunks=tuple(resp["chunks"]),
            images=tuple(images),
            glue=resp["glue"],
            seconds=resp["seconds"],
        )
        self.cache.store(relpath, entry)
        return entry

    # -- many snippets ---------------------------------------------------
    def _expected_seconds(self, found: Found) -> float:
        """How long the snippet took last time (any stored entry, even of
        another engine); never-run snippets count as the longest."""
        entry = self.cache.stored(found.relpath, any_engine=True)
        return entry.seconds if entry else float("inf")

    def run_all(
        self, relpaths
    ) -> tuple[dict[str, Result], list[SnippetError]]:
        """Results of many snippets, run in parallel workers where they
        are not cached; every failure is collected, none stops the rest."""
        results: dict[str, Result] = {}
        errors: list[SnippetError] = []

        def one(found: Found) -> None:
            try:
                results[found.relpath] = self._finish(found)
            except SnippetError as exc:
                errors.append(exc)

        # cached results are read once; only the rest are scheduled
        todo = []
        for rel in sorted(set(relpaths)):
            try:
                found = self._look_up(rel)
            except SnippetError as exc:
                errors.append(exc)
                continue
            if found.entry is None:
                todo.append(found)
            else:
                one(found)
        # longest first, so that no long snippet starts last
        todo.sort(key=self._expected_seconds, reverse=True)
        # until a run has shown that the repository is mounted read-only,
        # snippets run one at a time, each watched on its own
        while todo and not self._sealing_works:
            one(todo.pop(0))
        if self.jobs > 1 and len(todo) > 1:
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                list(pool.map(lambda found: one(found), todo))
        else:
            for found in todo:
                one(found)
        errors.sort(key=lambda e: (str(e.path), e.line or 0))
        return dict(sorted(results.items())), errors


# -- checking that a run only read the repository ------------------------

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
