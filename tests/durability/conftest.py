"""Production-shaped fixtures: a private Redis (it may be stopped and started again), a real
Celery worker with the prefork pool (-c 2) and embedded beat, and a "web" app that sends to it."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from models.imports import TERMINAL, DataJob
from tests import conftest
from tests.conftest import IsolatedClient, _config

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a free port, without persistence (a restart loses the queue)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/7"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        import redis

        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def postgres_only(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the production set-up needs PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")


@pytest.fixture(scope="session")
def redis_server(postgres_only):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


WORKER_ENV = {
    "APP_ENV": "testing", "RATELIMIT_ENABLED": "0", "IMPORT_BATCH_ROWS": "500", "JOB_SWEEP_SECONDS": "2",
    "JOB_STALE_SECONDS": "60", "JOB_RETRY_SECONDS": "2", "WORKER_HEARTBEAT_SECONDS": "2",
    "AUDIT_SEAL_SECONDS": "3600", "RETENTION_SECONDS": "3600",
    "SECRET_KEY": "durability-tests-worker-secret-key-0123456789",  # the worker refuses to start without one
}


class Worker:
    """``celery -A app.worker worker -c 2 -B``: the production pool, the sweeper on beat."""

    def __init__(self, db_url, broker, tmp):
        self.env = {**os.environ, **WORKER_ENV, "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker,
                    "CELERY_RESULT_BACKEND": broker.rsplit("/", 1)[0] + "/8", "FILE_DIR": conftest.FILE_DIR}
        self.tmp = tmp
        self.process = None

    def start(self):
        if getattr(self, "log", None) is not None:
            self.log.close()
        self.log = open(self.tmp / "worker.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--pool=prefork", "-c", "2", "-B",
             "--schedule", str(self.tmp / "beat-schedule"), "--without-gossip", "--without-mingle", "-l", "info"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def connection_owners(self, probes: int = 6) -> list[dict]:
        """Ask the children which process opened the connection each of them uses."""
        from celery import Celery

        client = Celery(broker=self.env["CELERY_BROKER_URL"], backend=self.env["CELERY_RESULT_BACKEND"])
        results = [client.send_task("app.connection_owner") for _ in range(probes)]
        return [r.get(timeout=30) for r in results]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        self.log.close()

    def tail(self) -> str:
        return (self.tmp / "worker.log").read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def worker(redis_server, db_url, tmp_path_factory):
    running = Worker(db_url, redis_server.url, tmp_path_factory.mktemp("worker"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def web_app(redis_server, db_url, app):
    """The web side: the suite's database, jobs sent to the private Redis (not run in-process)."""
    from app import create_app

    application = create_app(_config(db_url, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=redis_server.url))
    application.test_client_class = IsolatedClient
    yield application
    app.extensions["celery"].set_default()  # the rest of the suite runs its jobs in-process again


def wait_for(session, job_ids, worker, timeout=60, done=lambda job: job.status in TERMINAL):
    """The jobs once ``done`` (default: finished), failing with the worker's log on a timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        session.expire_all()
        jobs = session.scalars(select(DataJob).where(DataJob.id.in_(job_ids))).all()
        if len(jobs) == len(job_ids) and all(done(j) for j in jobs):
            return sorted(jobs, key=lambda j: job_ids.index(j.id))
        assert worker.process.poll() is None, worker.tail()
        time.sleep(0.2)
    states = [(j.id, j.status, j.processed_rows, j.runner) for j in jobs]
    raise AssertionError(f"jobs not done in {timeout}s: {states}\n{worker.tail()}")
