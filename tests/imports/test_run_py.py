"""run.py supervises its prefork Celery worker: a killed worker comes back, SIGTERM leaves nothing behind."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _procs() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, process group, command line) of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            out[int(entry)] = (int(fields[1]), int(fields[2]), cmd)
    return out


def _worker_of(parent: int) -> int | None:
    return next((pid for pid, (ppid, _g, cmd) in _procs().items() if ppid == parent and "celery" in cmd), None)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _heartbeats(instance: Path) -> list[str]:
    """When the workers last said they were alive (written on worker_ready: the broker works)."""
    try:
        with sqlite3.connect(instance / "union.db", timeout=5) as db:
            return [row[0] for row in db.execute("SELECT seen_at FROM worker_heartbeat")]
    except sqlite3.Error:
        return []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_py_restarts_a_killed_worker_and_stops_it_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "SECRET_KEY", "FILE_DIR"))}
    env.update(INSTANCE_DIR=str(tmp_path), PORT=str(_free_port()), DEMO_MEMBERS="20", APP_ENV="development",
               PYTHONUNBUFFERED="1")
    log = open(tmp_path / "run.log", "w")
    run = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    groups = set()
    try:
        first = _wait(lambda: _worker_of(run.pid), 90, "the worker")
        groups.add(_procs()[first][1])
        # the prefork pool: the worker forks its two processes; it is ready (connected to the broker)
        _wait(lambda: sum(1 for _p, (pp, _g, _c) in _procs().items() if pp == first) >= 2, 60, "the pool")
        seen = _wait(lambda: _heartbeats(tmp_path), 60, "the worker's first heartbeat")
        os.kill(first, signal.SIGKILL)
        second = _wait(lambda: (w := _worker_of(run.pid)) and w != first and w, 30, "the restarted worker")
        groups.add(_procs()[second][1])
        _wait(lambda: (now := _heartbeats(tmp_path)) and max(now) > max(seen), 60, "the restarted worker ready")
        assert "-c 2" in _procs()[second][2] and "prefork" in _procs()[second][2]
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=40)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        log.close()
    time.sleep(0.5)
    left = [(pid, cmd) for pid, (_pp, group, cmd) in _procs().items() if group in groups]
    assert left == [], (left, (tmp_path / "run.log").read_text()[-2000:])
    text = (tmp_path / "run.log").read_text()
    assert "重新启动" in text and "Traceback" not in text, text[-3000:]
