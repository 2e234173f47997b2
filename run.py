"""python run.py → the seeded demo on http://127.0.0.1:5000 with a Celery worker.

Idempotent: the schema is upgraded (``flask db upgrade``), roles are synced and the demo is
seeded only once (``DEMO_MEMBERS`` members, default 2000).

The worker runs the prefork pool (``-c 2``) with the embedded beat, under a supervisor: a worker
that dies (killed, out of memory) is started again; when run.py ends — Ctrl-C, SIGTERM, or even
SIGKILL (the worker then gets SIGTERM from the kernel) — its worker and the worker's pool children
end with it, never left behind as orphans.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from app import create_app
from app.config import instance_secret_key

if __name__ == "__main__" and not os.environ.get("SECRET_KEY"):
    # the demo only: a random key kept under instance/ (0600); the worker below inherits it
    os.environ["SECRET_KEY"] = instance_secret_key()
app = create_app()

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The worker gets SIGTERM from the kernel when the thread that started it goes (run.py killed)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class WorkerSupervisor:
    """Keeps one Celery worker running: restarts it when it dies, stops it (and its pool) on ``stop``."""

    def __init__(self, command: list[str], *, min_delay: float = 1.0, max_delay: float = 30.0):
        self.command = command
        self.min_delay, self.max_delay = min_delay, max_delay
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)

    def start(self) -> WorkerSupervisor:
        self._thread.start()
        return self

    def _spawn(self) -> subprocess.Popen | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            # its own process group: stopping it reaches the pool children too
            self.process = subprocess.Popen(self.command, start_new_session=True, preexec_fn=_die_with_parent)
            return self.process

    def _run(self) -> None:
        delay = self.min_delay
        while not self._stopping.is_set():
            started = time.monotonic()
            process = self._spawn()
            if process is None:
                return
            code = process.wait()
            _kill_group(process.pid, signal.SIGKILL)  # pool children of a killed worker must not linger
            if self._stopping.is_set():
                return
            delay = self.min_delay if time.monotonic() - started > 60 else min(delay * 2, self.max_delay)
            self.restarts += 1
            print(f"Celery 工作进程已退出（返回码 {code}），{delay:.0f} 秒后重新启动", file=sys.stderr, flush=True)
            self._stopping.wait(delay)

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM to the worker, which lets its pool finish), then SIGKILL to the group."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None:
            return
        if process.poll() is None:
            try:
                process.terminate()
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(process.pid, signal.SIGKILL)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._thread.join(timeout=5)


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def worker_command(flask_app) -> list[str]:
    # prefork, two processes (issue 9.1: the demo shows prefork); -B: the embedded beat runs the
    # scheduled jobs (expiry, closing ended activities)
    return [sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--pool=prefork", "-c", "2", "-B",
            "--schedule", str(Path(flask_app.config["FILE_DIR"]).parent / "celerybeat-schedule"),
            "--loglevel=warning"]


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds app.run: the finally below stops the worker


def main() -> None:
    from app.cli import init_db
    from app.extensions import db
    from seed.loader import seed_demo

    signal.signal(signal.SIGTERM, _terminate)
    supervisor = None
    try:
        with app.app_context():
            init_db(demo=True)
            print(seed_demo(db.session, members=int(os.environ.get("DEMO_MEMBERS", 2000))), flush=True)
        if not app.config["CELERY_TASK_ALWAYS_EAGER"]:
            supervisor = WorkerSupervisor(worker_command(app)).start()
        app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", 5000)),
                use_reloader=False, threaded=True)
    finally:
        if supervisor is not None:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the shutdown short
            supervisor.stop()


if __name__ == "__main__":
    main()
