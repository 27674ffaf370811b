"""What runs inside the process forked for one snippet.

The worker forks a fresh child from its preloaded state for every snippet,
so nothing one snippet changes (module globals, torch defaults,
``os.environ``, patched library functions) reaches the next. The child
points file descriptors 1 and 2 at a capture file and gives the snippet
real standard streams on them (``sys.stdout.buffer``, ``fileno()`` and
``faulthandler`` work as under ``python FILE``). The repository is
read-only for it: writes are refused by an audit hook and, where the
kernel allows a private mount namespace, by a read-only mount.
"""

from __future__ import annotations

import ast
import ctypes
import io
import os
import random
import sys
import time
import traceback
import warnings
from pathlib import Path

from infralens.engine import source, state

ENGINE_DIR = Path(__file__).resolve().parent
THREADS = 2
WRITE_EVENTS = {
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.rename",
    "os.truncate",
    "os.chmod",
    "os.chown",
    "os.utime",
    "os.link",
    "os.symlink",
    "shutil.rmtree",
}


class OutputLimitExceeded(BaseException):
    """Raised inside the snippet when it prints more than the limit."""


class _Unbuffered(io.BufferedWriter):
    """The binary layer as under ``python -u`` (PYTHONUNBUFFERED, which the
    worker sets): each write reaches the descriptor at once, in order."""

    def write(self, b) -> int:
        n = super().write(b)
        self.flush()
        return n


class CaptureStream(io.TextIOWrapper):
    """A real text stream on a captured descriptor that stops at the
    output limit (the limit counts stdout and stderr together)."""

    def __init__(self, fd: int, limit: int):
        raw = io.FileIO(fd, "w", closefd=False)
        super().__init__(
            _Unbuffered(raw),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
            write_through=True,
        )
        self._limit = limit

    def write(self, s: str) -> int:
        size = len(s.encode("utf-8", "backslashreplace"))
        if os.fstat(self.fileno()).st_size + size > self._limit:
            raise OutputLimitExceeded(
                f"printed more than {self._limit:,} bytes of output"
            )
        n = super().write(s)
        self.flush()
        return n


# where each event's dir_fd argument is: a name relative to that directory
# (as shutil.rmtree passes them) is not relative to the working directory
DIR_FD_ARG = {
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 2,
    "os.chmod": 2,
    "os.chown": 3,
    "os.utime": 3,
}


def _at(path, dir_fd):
    """``path`` as an absolute name when it is relative to ``dir_fd``."""
    if not isinstance(dir_fd, int) or isinstance(path, int) or path is None:
        return path
    try:
        name = os.fsdecode(path)
    except (TypeError, ValueError):
        return path
    if os.path.isabs(name):
        return name
    try:
        return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
    except OSError:
        return path


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _snippet_line(path: str) -> int | None:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == path:
            return frame.f_lineno
        frame = frame.f_back
    return None


class Guard:
    """One audit hook: records project files opened for reading, and
    refuses (and records) any write inside the repository."""

    def __init__(self, root: Path, writable: list[Path], snippet: str):
        self.root = root
        self.writable = writable
        self.snippet = snippet
        self.reads: set[str] = set()
        self.writes: list[tuple[str, int | None]] = []
        self.active = False
        sys.addaudithook(self._hook)

    def _protected(self, path) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        try:
            p = Path(os.path.abspath(os.fsdecode(path)))
        except (TypeError, ValueError):
            return None
        if not _under(p, self.root) or "__pycache__" in p.parts:
            return None
        if any(_under(p, w) for w in self.writable):
            return None
        return p.relative_to(self.root).as_posix()

    def _refuse(self, rel: str) -> None:
        self.writes.append((rel, _snippet_line(self.snippet)))
        raise PermissionError(
            f"snippets may only read the repository: refused to change {rel}"
        )

    def _hook(self, event, args):
        if not self.active:
            return
        if event == "open":
            path, mode, flags = args
            writes = (
                any(ch in str(mode) for ch in "wax+")
                if mode is not None
                else flags is not None and flags & (os.O_WRONLY | os.O_RDWR)
            )
            if not writes:
                if path is not None and not isinstance(path, int):
                    try:
                        self.reads.add(os.path.abspath(os.fsdecode(path)))
                    except (TypeError, ValueError):
                        pass
                return
            rel = self._protected(path)
        elif event in WRITE_EVENTS:
            if event in ("os.rename", "os.link"):
                paths = args[:2]
                fds = args[2:4] if event == "os.rename" else ()
            elif event == "os.symlink":
                paths, fds = args[1:2], args[2:3]
            else:
                paths = args[:1]
                at = DIR_FD_ARG.get(event)
                fds = args[at : at + 1] if at is not None else ()
            paths = [
                _at(path, fds[i] if i < len(fds) else None)
                for i, path in enumerate(paths)
            ]
            rel = next(filter(None, map(self._protected, paths)), None)
        else:
            return
        if rel is not None:
            self.active = False
            try:
                self._refuse(rel)
            finally:
                self.active = True


# mount(2) flags
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
PR_SET_PDEATHSIG = 1


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the worker dies."""
    try:
        _libc().prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def seal(root: Path, writable: list[Path]) -> bool:
    """Make ``root`` read-only for this process (private user and mount
    namespaces). False where the kernel does not allow it."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        return False
    try:
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1"),
            ("gid_map", f"{gid} {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)
    except OSError:
        return False
    kept = 0
    f_flag = os.statvfs(root).f_flag
    for st, ms in ((2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC)):
        if f_flag & st:
            kept |= ms
    for st, ms in ((1024, MS_NOATIME), (2048, MS_NODIRATIME)):
        if f_flag & st:
            kept |= ms
    if f_flag & 4096:
        kept |= MS_RELATIME

    def mount(src, dst, flags) -> bool:
        s = None if src is None else os.fsencode(str(src))
        return libc.mount(s, os.fsencode(str(dst)), None, flags, None) == 0

    for w in writable:
        if _under(w, root) and not mount(w, w, MS_BIND):
            return False
    if not mount(root, root, MS_BIND | MS_REC):
        return False
    return mount(None, root, MS_BIND | MS_REMOUNT | MS_RDONLY | kept)


_PROJECT_FILE: dict[str, Path | None] = {}


def _project_modules(root: Path):
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        if not isinstance(file, str) or not os.path.isabs(file):
            continue  # built-in, or a pseudo-module such as torch.ops
        if file not in _PROJECT_FILE:
            p = Path(file).resolve()
            keep = _under(p, root) and not _under(p, ENGINE_DIR)
            _PROJECT_FILE[file] = p if keep else None
        if _PROJECT_FILE[file] is not None:
            yield name, _PROJECT_FILE[file]


def _purge_project_modules(root: Path) -> None:
    """Forget project modules the worker loaded, so that the snippet
    imports their current code."""
    for name, _ in list(_project_modules(root)):
        del sys.modules[name]


def _imported_names(path: Path) -> set[str]:
    """Top-level names of modules a file imports (absolute imports)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
        ):
            names.add(node.module.split(".")[0])
    return names


def _seed_everything() -> None:
    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.manual_seed(0)
        torch.set_num_threads(THREADS)
        torch.use_deterministic_algorithms(True)


def _error_location(exc: BaseException, path: str) -> int | None:
    """The deepest line of the snippet file in the traceback."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == path:
            line = lineno
    return line


def _format_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(f"{category.__name__}: {message}\n")


def _error(line, message, tb="") -> dict:
    return {"line": line, "message": message, "traceback": tb[-20_000:]}


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        _libc().fflush(None)  # C-level stdio buffers
    except (OSError, AttributeError):
        pass


def run(req: dict) -> dict:
    """Run one snippet in this (forked) process; the result as plain
    data. File descriptors 1 and 2 already point at the capture file."""
    path = Path(req["path"]).resolve()
    root = Path(req["root"]).resolve()
    out_dir = Path(req["out_dir"]).resolve()
    limit = int(req["output_limit"])
    result: dict = {"ok": True, "chunks": [], "images": [], "glue": {}}
    try:
        snip = source.parse(path)
        tree = ast.parse(snip.text, filename=str(path))
    except source.SnippetError as exc:
        result.update(ok=False, error=_error(exc.line, exc.message))
        return result

    writable = [out_dir]
    result["sealed"] = bool(req.get("seal")) and seal(root, writable)
    guard = Guard(root, writable, str(path))
    _purge_project_modules(root)
    state.reset()
    library = sys.modules.get("infralens.engine.library")
    if library is not None:
        library.QUOTED.clear()
    os.environ["INFRALENS_OUTPUT_DIR"] = str(out_dir)
    namespace = {
        "__name__": "__main__",
        "__file__": str(path),
        "__builtins__": __builtins__,
    }
    sys.stdout = CaptureStream(1, limit)
    sys.stderr = CaptureStream(2, limit)
    sys.argv = [str(path)]
    sys.path.insert(0, str(path.parent))
    os.chdir(root)
    _seed_everything()
    bounds: list[int] = []
    start = time.perf_counter()
    guard.active = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _format_warning
            for chunk in snip.chunks:
                state.set_chunk(chunk.index)
                code = source.compile_chunk(snip, chunk, tree)
                try:
                    exec(code, namespace)
                finally:
                    _flush_all()
                    bounds.append(os.fstat(1).st_size)
    except BaseException as exc:  # noqa: BLE001 - report everything
        line = _error_location(exc, str(path))
        if isinstance(exc, OutputLimitExceeded):
            msg = str(exc)
        elif isinstance(exc, SystemExit):
            msg = f"SystemExit: the snippet called exit({exc.code!r})"
        else:
            msg = "".join(
                traceback.format_exception_only(type(exc), exc)
            ).strip()
        tb = "".join(traceback.format_exception(exc))
        result.update(ok=False, error=_error(line, msg, tb))
    finally:
        guard.active = False
        seconds = time.perf_counter() - start
        _flush_all()

    if guard.writes and result["ok"]:
        rel, line = guard.writes[0]
        result.update(
            ok=False,
            error=_error(
                line,
                "snippets may only read the repository: it tried to "
                f"change {rel} (the file was left as it was)",
            ),
        )
    with open(1, "rb", closefd=False) as fh:
        fh.seek(0)
        raw = fh.read(limit + 1)
    if len(raw) > limit and result["ok"]:
        result.update(
            ok=False,
            error=_error(None, f"printed more than {limit:,} bytes of output"),
        )
    at = 0
    for end in bounds:
        result["chunks"].append(raw[at:end].decode("utf-8", "replace"))
        at = end
    if result["chunks"] and at < len(raw):
        result["chunks"][-1] += raw[at:].decode("utf-8", "replace")

    glue, images = state.take()
    modules = sorted(str(p) for _, p in _project_modules(root))
    files = sorted(
        f
        for f in guard.reads
        if _under(Path(f), root)
        and not _under(Path(f), out_dir)
        and f != str(path)
        and f not in modules
    )
    packages = _imported_names(path)
    for m in modules:
        packages |= _imported_names(Path(m))
    # packages whose installed source the snippet read and ran without
    # importing them (infralens.engine.library.load_quoted)
    library = sys.modules.get("infralens.engine.library")
    packages |= set(getattr(library, "QUOTED", ()))
    result.update(
        seconds=seconds,
        glue=glue,
        images=[list(im) for im in images],
        modules=modules,
        files=files,
        packages=sorted(packages),
    )
    return result
