"""The result cache: one entry per snippet, keyed on every input.

An entry holds what a run printed, drew and glued, plus the inputs it was
made from: the snippet's bytes, the project modules it imported, the
project files it read (a model folder counts whole), the versions of the
packages it imports (and what they require), the Python version and the
engine's own source. An entry is reused only while every one of those is
unchanged, so a prose-only edit reruns nothing and a changed input reruns
exactly the snippets that used it.

Any number of builds may share one cache: entries and images are written
atomically. What is read back is checked: an entry that does not have the
expected shape, or whose images do not match their hashes, is discarded
with a warning and the snippet runs again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import re
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path

from infralens.engine import ENGINE_VERSION
from infralens.engine.records import CacheEntry, Image

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

# The engine files that decide what a run produces: how a snippet is run
# (child, worker, source, state) and the environment it runs in
# (workers.py). Rendering (render.py, notebook.py), scheduling (run.py)
# and the cache's own code do not change what a snippet prints, so
# editing them reruns nothing; a change to the stored format raises
# ENGINE_VERSION in __init__.py instead.
EXECUTION_FILES = (
    "__init__.py",
    "child.py",
    "source.py",
    "state.py",
    "worker.py",
    "workers.py",
)

_HASHES: dict[tuple, str] = {}
_HASH_LOCK = threading.Lock()


def sha256_file(path: Path) -> str:
    """The file's sha256, remembered while its size and mtime stay."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _HASH_LOCK:
        known = _HASHES.get(key)
    if known is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        known = h.hexdigest()
        with _HASH_LOCK:
            _HASHES[key] = known
    return known


def engine_hash() -> str:
    h = hashlib.sha256(ENGINE_VERSION.encode())
    for p in sorted(ENGINE_DIR / name for name in EXECUTION_FILES):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.cache
def distributions() -> dict[str, list[str]]:
    """Top-level import name -> distributions providing it. Slow (it
    reads every installed package's file list), so read once a process."""
    return metadata.packages_distributions()


def _import_path_stamp() -> tuple:
    """The import path with each folder's modification time. Installing,
    upgrading or removing a distribution adds or removes its
    ``.dist-info`` folder in one of these folders, so the stamp changes."""
    stamp = []
    for entry in sys.path:
        try:
            stamp.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamp.append((entry, None))
    return tuple(stamp)


@functools.lru_cache(maxsize=1024)
def _installed(dist: str, stamp: tuple) -> tuple[str, tuple] | None:
    """(version, requirements) of an installed distribution, or None.
    Reading them parses the distribution's METADATA file, for every
    quoted or imported package of every snippet, so they are remembered
    while ``stamp`` (``_import_path_stamp``) stays the same: a long
    ``mkdocs serve`` sees a known package upgraded or removed, and new
    requirements; a package that brings a new import name is seen after
    a restart (``distributions`` is read once per process)."""
    try:
        found = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return None
    return found.version, tuple(found.requires or ())


def installed_version(dist: str) -> str | None:
    info = _installed(dist, _import_path_stamp())
    return info[0] if info else None


def installed_requirements(dist: str) -> tuple[str, ...]:
    """The requirement lines of an installed distribution (none when it
    is not installed)."""
    info = _installed(dist, _import_path_stamp())
    return info[1] if info else ()


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


class Cache:
    """Entries under ``folder/entries``, images under ``folder/images``
    (named by their sha256, shared by every entry that drew them)."""

    def __init__(self, root: Path, folder: Path, version_of=installed_version):
        self.root = root
        self.folder = folder
        self.version_of = version_of
        self.key = {
            "engine": engine_hash(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        self._dists: dict | None = None
        self._dist_cache: dict[str, tuple] = {}
        self._closures: dict[str, dict[str, str | None]] = {}
        self._lock = threading.Lock()

    # -- where things are ------------------------------------------------
    def entry_path(self, relpath: str) -> Path:
        return self.folder / "entries" / (relpath.replace("/", "__") + ".json")

    def image_path(self, sha: str) -> Path:
        return self.folder / "images" / (sha + ".png")

    def image(self, record: dict) -> Image:
        return Image(
            record["name"],
            record["chunk"],
            record["alt"],
            record["sha"],
            self.image_path(record["sha"]),
        )

    # -- what a run depended on ------------------------------------------
    def _dist_info(self, dist: str):
        """(version, installed requirement names) of one distribution,
        looked up once per cache: reading metadata is slow."""
        key = re.sub(r"[-_.]+", "-", dist).lower()
        if key not in self._dist_cache:
            names = []
            for req in installed_requirements(dist):
                if "extra" in req.partition(";")[2]:
                    continue
                m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
                if m and installed_version(m.group(1)) is not None:
                    names.append(m.group(1))
            self._dist_cache[key] = (self.version_of(dist), names)
        return key, self._dist_cache[key]

    def package_versions(self, names) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        with self._lock:
            for name in names:
                found.update(self._versions_for(name))
        return dict(sorted(found.items()))

    def _versions_for(self, name: str) -> dict[str, str | None]:
        """Versions of the distributions that provide the import name
        ``name`` and of everything they require (none for the project's
        own package), worked out once per cache: entries share most."""
        if name not in self._closures:
            if self._dists is None:
                self._dists = distributions()
            todo = []
            if not (self.root / name).exists():
                todo.extend(self._dists.get(name, []))
            seen: dict[str, str | None] = {}
            while todo:
                key, (version, reqs) = self._dist_info(todo.pop())
                if key in seen:
                    continue
                seen[key] = version
                todo.extend(reqs)
            self._closures[name] = seen
        return self._closures[name]

    def deps(self, modules, files) -> dict[str, str]:
        paths = {Path(p) for p in modules}
        for f in map(Path, files):
            paths.add(f)
            if (f.parent / "config.json").exists():
                paths.update(
                    p
                    for p in f.parent.iterdir()
                    if p.suffix in MODEL_FILE_SUFFIXES
                )
        found = {}
        for p in sorted(paths):
            if p.is_file():
                found[p.relative_to(self.root).as_posix()] = sha256_file(p)
        return found

    # -- reading and writing ---------------------------------------------
    def _discard(self, relpath: str, path: Path, why: str) -> None:
        cache_log.warning(
            "infralens: cache entry of %s discarded (%s); running it again",
            relpath,
            why,
        )
        path.unlink(missing_ok=True)

    def stored(self, relpath: str, any_engine: bool = False):
        """The stored entry of a snippet, current or not (None when there
        is none, or it is damaged: then it is removed with a warning).
        Entries of another engine or Python count only with
        ``any_engine`` (their run time still says how long a run takes)."""
        path = self.entry_path(relpath)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._discard(relpath, path, f"unreadable: {exc}")
            return None
        if (
            not any_engine
            and isinstance(data, dict)
            and data.get("key") != self.key
        ):
            return None  # made by another engine version or Python
        try:
            return CacheEntry.from_json(data)
        except ValueError as exc:
            self._discard(relpath, path, str(exc))
            return None

    def lookup(self, relpath: str, snippet_sha: str) -> CacheEntry | None:
        """The entry of a snippet if every input it was made from is
        unchanged, else None."""
        entry = self.stored(relpath)
        if entry is None or entry.snippet != snippet_sha:
            return None
        for rel, sha in entry.deps.items():
            p = self.root / rel
            if not p.is_file() or sha256_file(p) != sha:
                return None
        if self.package_versions(entry.import_names) != entry.packages:
            return None
        for im in entry.images:
            image = self.image_path(im["sha"])
            if not image.is_file():
                return None
            if sha256_file(image) != im["sha"]:
                image.unlink(missing_ok=True)
                self._discard(
                    relpath,
                    self.entry_path(relpath),
                    f"image {im['name']} damaged",
                )
                return None
        return entry

    def add_image(self, src: Path) -> str:
        """Keep the bytes of ``src`` under their hash; returns the hash."""
        sha = sha256_file(src)
        dst = self.image_path(sha)
        if not (dst.is_file() and sha256_file(dst) == sha):
            atomic_write(dst, src.read_bytes())
        return sha

    def store(self, relpath: str, entry: CacheEntry) -> None:
        atomic_write(
            self.entry_path(relpath),
            json.dumps(entry.to_json(), indent=1).encode("utf-8"),
        )
