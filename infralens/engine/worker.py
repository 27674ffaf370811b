"""The worker process: a fork server that runs each snippet in a child.

Started once per build (``python -m infralens.engine.worker``), so heavy
imports such as torch are paid once. For every request it forks a child
from that preloaded state (``child.py`` runs the snippet), so each snippet
starts from the same state whatever ran before it. It talks JSON lines
over private copies of its standard streams and watches the child: the
child is killed when it runs past the timeout, uses more memory than the
limit, prints far past the output limit, or when the build that started
the worker goes away (its end of the pipe closes).
"""

from __future__ import annotations

import json
import os
import selectors
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from marshal import dumps as _marshal_dumps
from marshal import loads as _marshal_loads

from infralens.engine import child

POLL_S = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")


class BuildGone(Exception):
    """The process that sent requests has closed its end of the pipe."""


class Requests:
    """JSON lines from the build, read from a raw descriptor so that the
    worker can notice, while a child runs, that the build has gone."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""
        self.closed = False

    def _fill(self) -> None:
        data = os.read(self.fd, 1 << 16)
        if not data:
            self.closed = True
        self.buf += data

    def readline(self) -> str | None:
        while b"\n" not in self.buf and not self.closed:
            self._fill()
        if b"\n" not in self.buf:
            return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8")

    def check(self) -> None:
        """Raise BuildGone if the build closed the pipe (non-blocking)."""
        sel = selectors.DefaultSelector()
        sel.register(self.fd, selectors.EVENT_READ)
        try:
            if sel.select(0):
                self._fill()
        finally:
            sel.close()
        if self.closed:
            raise BuildGone


@dataclass
class Exit:
    """How a child ended, as the worker saw it."""

    status: int | None  # os.waitstatus_to_exitcode, None if still running
    peak_mib: float
    data: bytes
    stopped: str | None  # why the worker killed it, if it did


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, 9), lambda: os.kill(pid, 9)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


class Worker:
    def __init__(self, requests: Requests, keep_fds: list[int]):
        self.requests = requests
        self.private_fds = keep_fds

    def _fork(self, req: dict, capture: int) -> tuple[int, int]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                os.close(r)
                os.setpgid(0, 0)
                child.die_with_parent()
                for fd in self.private_fds:
                    os.close(fd)
                os.dup2(capture, 1)
                os.dup2(capture, 2)
                data = _marshal_dumps(child.run(req))
                view = memoryview(data)
                while view:
                    view = view[os.write(w, view) :]
            except BaseException:  # noqa: BLE001 - reported as no result
                code = 70
            os._exit(code)
        os.close(w)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        return pid, r

    def _watch(self, pid: int, r: int, capture: int, req: dict) -> Exit:
        deadline = time.monotonic() + float(req["timeout"])
        memory = float(req["memory_limit_mb"])
        output = int(req["output_limit"])
        os.set_blocking(r, False)
        data = bytearray()
        stopped = None
        peak = 0.0
        while True:
            try:
                while chunk := os.read(r, 1 << 16):
                    data += chunk
            except BlockingIOError:
                pass
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            if os.waitid(os.P_PID, pid, flags) is not None:
                break  # ended; reaped below, after its group is killed
            peak = max(peak, _rss_mib(pid))
            if stopped is None:
                if time.monotonic() > deadline:
                    stopped = "timeout"
                elif peak > memory:
                    stopped = "memory"
                elif os.fstat(capture).st_size > output + (1 << 20):
                    stopped = "output"
                if stopped:
                    _kill(pid)
            try:
                self.requests.check()
            except BuildGone:
                _kill(pid)
                os.waitpid(pid, 0)
                raise
            time.sleep(POLL_S)
        while True:
            try:
                chunk = os.read(r, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        os.close(r)
        _kill(pid)  # whatever the snippet started in its process group
        _, status, usage = os.wait4(pid, 0)
        peak = max(peak, usage.ru_maxrss / 1024)
        code = os.waitstatus_to_exitcode(status)
        return Exit(code, peak, bytes(data), stopped)

    def run(self, req: dict) -> dict:
        with tempfile.TemporaryFile() as capture:
            pid, r = self._fork(req, capture.fileno())
            ended = self._watch(pid, r, capture.fileno(), req)
        return _outcome(ended, req)


def _failure(message: str, line=None, tb: str = "") -> dict:
    return {
        "ok": False,
        "chunks": [],
        "images": [],
        "glue": {},
        "error": {"line": line, "message": message, "traceback": tb},
    }


def _outcome(ended: Exit, req: dict) -> dict:
    memory = float(req["memory_limit_mb"])
    if ended.stopped == "timeout":
        return _failure(
            f"timed out after {float(req['timeout']):g} s "
            "(the snippet was stopped)"
        )
    if ended.stopped == "memory" or ended.peak_mib > memory:
        return _failure(
            f"used more than the memory limit of {memory:g} MiB "
            "(memory_limit_mb in mkdocs.yml)"
        )
    if ended.stopped == "output":
        return _failure(
            f"printed more than {int(req['output_limit']):,} bytes of output"
        )
    try:
        result = _marshal_loads(ended.data)
    except (EOFError, ValueError, TypeError):
        result = None
    if not isinstance(result, dict):
        code = ended.status
        how = f"exit code {code}" if code >= 0 else f"signal {-code}"
        return _failure(
            f"the snippet's process ended ({how}) without a result"
        )
    result["peak_mib"] = ended.peak_mib
    return result


def main() -> None:
    proto_in = os.dup(0)
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
    requests = Requests(proto_in)
    worker = Worker(requests, [proto_in, proto_out.fileno()])
    proto_out.write(json.dumps({"ready": True}) + "\n")
    proto_out.flush()
    while (line := requests.readline()) is not None:
        req = json.loads(line)
        try:
            resp = worker.run(req)
        except BuildGone:
            break
        except Exception:  # an engine bug: report it instead of hanging
            resp = _failure("engine error", tb=traceback.format_exc())
        proto_out.write(json.dumps(resp) + "\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
