"""One import through a real Celery worker with Redis as the broker (CI has Redis on 6379)."""
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from models.imports import TERMINAL, DataJob, JobStatus
from models.members import Member
from tests import conftest
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row, submit_member_file

BROKER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        import redis

        return redis.Redis.from_url(BROKER).ping()
    except Exception:
        return False


@pytest.mark.skipif(not _redis_up() and not os.environ.get("CI"), reason="Redis is not running on 127.0.0.1:6379")
def test_import_runs_in_a_real_worker_over_redis(app, db_url, ctx, tmp_path):
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER,
           "FILE_DIR": conftest.FILE_DIR, "APP_ENV": "testing", "RATELIMIT_ENABLED": "0",
           "SECRET_KEY": secrets.token_urlsafe(48)}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--pool=solo",
                               "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from celery import Celery

        org = base_of(ctx, county(ctx), 2)
        rows = [member_row(org) for _ in range(3)]
        job = submit_member_file(ctx, make_xlsx(tmp_path / "w.xlsx", [MEMBER_HEADER, *rows]))
        Celery(broker=BROKER).send_task("imports.run", args=[job.id])
        deadline = time.time() + 90
        while time.time() < deadline:
            ctx.expire_all()
            if ctx.get(DataJob, job.id).status in TERMINAL:
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.5)
        job = ctx.get(DataJob, job.id)
        assert job.status == JobStatus.SUCCEEDED, job.message
        assert ctx.scalar(select(Member).where(Member.id_number == rows[0][2])).org_id == org.id
    finally:
        worker.terminate()
        worker.wait(timeout=20)


@pytest.mark.skipif(not _redis_up() and not os.environ.get("CI"), reason="Redis is not running on 127.0.0.1:6379")
def test_hostile_files_fail_their_jobs_in_a_prefork_worker_that_lives_on(app, db_url, ctx, tmp_path):
    """Reading runs in an os.fork child of the prefork pool's (daemonic) child, under a memory limit."""
    import redis

    from tests.imports.hostile import write_xlsx
    from tests.imports.test_hostile import _job_of_stored_file

    redis.Redis.from_url(BROKER).flushdb()
    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER,
           "FILE_DIR": conftest.FILE_DIR, "APP_ENV": "testing", "RATELIMIT_ENABLED": "0",
           "SECRET_KEY": secrets.token_urlsafe(48), "IMPORT_PARSE_MEMORY_MB": "200"}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--pool=prefork", "-c", "1",
                               "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from celery import Celery

        org = base_of(ctx, county(ctx), 2)
        good = member_row(org)
        jobs = [_job_of_stored_file(ctx, write_xlsx(tmp_path / "xfd.xlsx", extra_cell="XFD1048576")),
                _job_of_stored_file(ctx, write_xlsx(tmp_path / "m.xlsx", [member_row(org)], extra_cell="M1000000")),
                submit_member_file(ctx, make_xlsx(tmp_path / "ok.xlsx", [MEMBER_HEADER, good]))]
        sender = Celery(broker=BROKER)
        for job in jobs:
            sender.send_task("imports.run", args=[job.id])
        deadline = time.time() + 90
        while time.time() < deadline:
            ctx.expire_all()
            if all(ctx.get(DataJob, j.id).status in TERMINAL for j in jobs):
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.5)
        xfd, sparse, ok = (ctx.get(DataJob, j.id) for j in jobs)
        assert xfd.status == JobStatus.FAILED and "列数超出模板" in xfd.message
        assert (sparse.status, sparse.created_rows, sparse.error_rows) == (JobStatus.PARTIAL, 1, 1), sparse.message
        assert ok.status == JobStatus.SUCCEEDED, ok.message
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=20)
