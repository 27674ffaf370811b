"""The worker process that runs snippets, one at a time, in fresh namespaces.

Started once per build (``python -m infralens.engine.worker``), so heavy
imports such as torch are paid once. It talks JSON lines over private
copies of its standard streams; while a snippet runs, file descriptors 1
and 2 point at a capture file, so even output written by C code never
mixes into the protocol.
"""

from __future__ import annotations

import ast
import io
import json
import os
import random
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from infralens.engine import source, state

ENGINE_DIR = Path(__file__).resolve().parent
THREADS = 2


class OutputLimitExceeded(BaseException):
    """Raised inside the snippet when it prints more than the limit."""


class CappedWriter(io.TextIOBase):
    def __init__(self, limit: int, used: list[int]):
        self.parts: list[str] = []
        self.limit = limit
        self.used = used  # shared byte count across stdout and stderr

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.used[0] += len(s.encode("utf-8", "replace"))
        if self.used[0] > self.limit:
            raise OutputLimitExceeded(
                f"printed more than {self.limit:,} bytes of output"
            )
        self.parts.append(s)
        return len(s)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts.clear()
        return out


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


class Tracker:
    """Records project files a snippet opens for reading (audit hook)."""

    def __init__(self):
        self.active = False
        self.files: set[str] = set()
        sys.addaudithook(self._hook)

    def _hook(self, event, args):
        if not self.active or event != "open":
            return
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        if mode is not None:
            if any(ch in str(mode) for ch in "wax+"):
                return
        elif flags is not None and flags & (os.O_WRONLY | os.O_RDWR):
            return
        try:
            self.files.add(os.path.abspath(os.fsdecode(path)))
        except (TypeError, ValueError):
            pass


# module file -> its resolved path if it is a project module, else None.
# Thousands of modules are loaded once torch is; resolving each path on
# every snippet would cost a quarter of a second.
_PROJECT_FILE: dict[tuple[str, str], Path | None] = {}


def _project_file(file: str, root: Path) -> Path | None:
    key = (file, str(root))
    if key not in _PROJECT_FILE:
        p = Path(file).resolve()
        keep = _under(p, root) and not _under(p, ENGINE_DIR)
        _PROJECT_FILE[key] = p if keep else None
    return _PROJECT_FILE[key]


def _project_modules(root: Path):
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        if not isinstance(file, str) or not os.path.isabs(file):
            continue  # built-in, or a pseudo-module such as torch.ops
        p = _project_file(file, root)
        if p is not None:
            yield name, p


def _purge_project_modules(root: Path) -> None:
    """Forget project modules so each snippet imports their current code."""
    for name, _ in list(_project_modules(root)):
        del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and hasattr(sys.modules[parent], child):
            try:
                delattr(sys.modules[parent], child)
            except AttributeError:
                pass


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


class Worker:
    def __init__(self, proto_out):
        self.proto_out = proto_out
        self.tracker = Tracker()
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.saved_err = os.dup(2)

    def run(self, req: dict) -> dict:
        path = Path(req["path"]).resolve()
        root = Path(req["root"]).resolve()
        out_dir = Path(req["out_dir"])
        limit = int(req.get("output_limit", 200_000))
        result: dict = {"ok": True, "chunks": [], "images": [], "glue": {}}

        try:
            snip = source.parse(path)
            tree = ast.parse(snip.text, filename=str(path))
        except source.SnippetError as exc:
            result.update(
                ok=False,
                error={
                    "line": exc.line,
                    "message": exc.message,
                    "traceback": "",
                },
            )
            return result

        _purge_project_modules(root)
        state.reset()
        out_dir.mkdir(parents=True, exist_ok=True)
        os.environ["INFRALENS_OUTPUT_DIR"] = str(out_dir)
        namespace = {
            "__name__": "__main__",
            "__file__": str(path),
            "__builtins__": __builtins__,
        }
        used = [0]
        out = CappedWriter(limit, used)
        capture = tempfile.TemporaryFile()
        old = sys.stdout, sys.stderr, sys.argv, list(sys.path), os.getcwd()
        sys.stdout = sys.stderr = out
        sys.argv = [str(path)]
        sys.path.insert(0, str(path.parent))
        os.chdir(root)
        sys.stdout.flush()
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        self.tracker.files.clear()
        self.tracker.active = True
        _seed_everything()
        start = time.perf_counter()
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
                        result["chunks"].append(out.take())
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
            result.update(
                ok=False,
                error={
                    "line": line,
                    "message": msg,
                    "traceback": tb[-20_000:],
                },
            )
        finally:
            seconds = time.perf_counter() - start
            self.tracker.active = False
            for stream in (sys.__stdout__, sys.__stderr__):
                if stream is not None:
                    try:
                        stream.flush()
                    except (OSError, ValueError):
                        pass
            sys.stdout, sys.stderr, sys.argv, sys.path[:] = old[:4]
            os.chdir(old[4])
            os.dup2(self.devnull, 1)
            os.dup2(self.saved_err, 2)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")

        capture.seek(0)
        raw = capture.read(limit + 1).decode("utf-8", "replace")
        capture.close()
        if raw and result["ok"]:
            if used[0] + len(raw) > limit:
                result.update(
                    ok=False,
                    error={
                        "line": None,
                        "traceback": "",
                        "message": f"printed more than {limit:,} bytes "
                        "of output",
                    },
                )
            elif result["chunks"]:
                result["chunks"][-1] += raw

        glue, images = state.take()
        modules = sorted(str(p) for _, p in _project_modules(root))
        files = sorted(
            f
            for f in self.tracker.files
            if _under(Path(f), root)
            and not _under(Path(f), out_dir.resolve())
            and f != str(path)
            and f not in modules
        )
        packages = _imported_names(path)
        for m in modules:
            packages |= _imported_names(Path(m))
        result.update(
            glue=glue,
            images=images,
            seconds=seconds,
            modules=modules,
            files=files,
            packages=sorted(packages),
        )
        return result


def main() -> None:
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in filter(
        None, os.environ.get("INFRALENS_PRELOAD", "").split(",")
    ):
        try:
            __import__(name)
        except ImportError:
            pass
    worker = Worker(proto_out)
    proto_out.write(json.dumps({"ready": True}) + "\n")
    proto_out.flush()
    for line in proto_in:
        req = json.loads(line)
        try:
            resp = worker.run(req)
        except Exception:  # an engine bug: report it instead of hanging
            resp = {
                "ok": False,
                "chunks": [],
                "images": [],
                "glue": {},
                "error": {
                    "line": None,
                    "message": "engine error",
                    "traceback": traceback.format_exc(),
                },
            }
        proto_out.write(json.dumps(resp) + "\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
