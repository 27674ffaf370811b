"""The process that runs snippets: ``python -m infralens.engine.worker``,
started with a fixed environment (threads, seeds, offline hubs), talked
to in JSON lines. ``run.Engine`` owns these and stops them when it
closes; this module keeps no registry of its own.

The environment decides what a snippet computes (the thread count, for
one, can change the last bits of a float reduction), so it is the same
for every worker, however many run at once.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent


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
