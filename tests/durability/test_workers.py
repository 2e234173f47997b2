"""The production set-up under faults: PostgreSQL, Redis, a prefork worker (-c 2) with beat.

Two imports at once, a child killed in the middle of one, the broker down at upload: every
job ends with exact counts, without a hand."""
import os
import signal
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, text

from app.extensions import db
from app.services import jobs
from models.imports import DataJob, JobStatus
from models.members import Member
from tests.durability.conftest import wait_for
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row, submit_member_file

pytestmark = pytest.mark.postgres


CREATED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _forget_members(app):
    """Thousands of members would change what later tests count: they leave with this module."""
    yield
    with app.app_context():
        for start in range(0, len(CREATED), 5000):
            db.session.execute(delete(Member).where(Member.id_number.in_(CREATED[start:start + 5000])))
        db.session.commit()


def _unique_ids(n):
    """Resident IDs of an area the random factories never use, from a counter: no collision at any size."""
    from app.validators import resident_id_check_char

    for k in range(len(CREATED), len(CREATED) + n):
        first17 = f"310115{date(1960, 1, 1) + timedelta(days=k % 16000):%Y%m%d}{(k // 16000) % 1000:03d}"
        yield first17 + resident_id_check_char(first17)


def _file(tmp_path, name, org, n):
    rows = [member_row(org, id_number=number) for number in _unique_ids(n)]
    CREATED.extend(r[2] for r in rows)
    return make_xlsx(tmp_path / name, [MEMBER_HEADER, *rows]), [r[2] for r in rows]


def _submit(web_app, path) -> int:
    """As the upload page does: the job commits, then it is sent to the broker."""
    with web_app.app_context():
        job = submit_member_file(db.session, path)
        assert jobs.enqueue(db.session, job)
        return job.id


def _members(ctx, numbers, org) -> int:
    return ctx.scalar(select(func.count(Member.id)).where(Member.id_number.in_(numbers), Member.org_id == org.id))


def _pid(job) -> int:
    return int(job.runner.split(":")[1])


def _own_connection(ctx, pid) -> bool:
    return bool(ctx.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                           {"name": f"union:{pid}"}))


def test_two_imports_at_once_each_commit_exactly_their_rows(worker, web_app, ctx, tmp_path):
    orgs = [base_of(ctx, county(ctx), 0), base_of(ctx, county(ctx), 1)]
    files = [_file(tmp_path, f"together{i}.xlsx", org, 3000) for i, org in enumerate(orgs)]
    ids = [_submit(web_app, path) for path, _numbers in files]
    done = wait_for(ctx, ids, worker)
    for job, org, (_path, numbers) in zip(done, orgs, files):
        assert job.status == JobStatus.SUCCEEDED, job.message
        assert (job.created_rows, job.updated_rows, job.error_rows, job.attempts) == (3000, 0, 0, 1)
        assert _members(ctx, numbers, org) == 3000
    # side by side, in the two children, each on a connection it opened itself
    assert _pid(done[0]) != _pid(done[1]) and {_pid(j) for j in done} <= set(worker.children())
    assert max(j.started_at for j in done) < min(j.finished_at for j in done)
    assert all(_own_connection(ctx, _pid(j)) for j in done)


def test_child_killed_mid_import_resumes_with_exact_counts(worker, web_app, ctx, tmp_path):
    org = base_of(ctx, county(ctx), 2)
    path, numbers = _file(tmp_path, "killed.xlsx", org, 8000)
    job_id = _submit(web_app, path)
    running = wait_for(ctx, [job_id], worker, done=lambda j: j.processed_rows >= 1000)[0]
    assert running.status == JobStatus.RUNNING
    killed = _pid(running)
    os.kill(killed, signal.SIGKILL)
    job = wait_for(ctx, [job_id], worker, timeout=90)[0]
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert (job.created_rows, job.updated_rows, job.error_rows, job.processed_rows) == (8000, 0, 0, 8000)
    assert job.attempts == 2 and _pid(job) != killed
    assert _members(ctx, numbers, org) == 8000
    # the replacement child was forked from a parent holding a connection (its heartbeat), and
    # still every child works on a connection it opened itself
    assert _own_connection(ctx, worker.process.pid)
    owners = worker.connection_owners()
    assert _pid(job) in {o["pid"] for o in owners} and all(o["opened_by"] == o["pid"] for o in owners), owners


def test_whole_worker_killed_mid_import_resumes_when_it_starts_again(worker, web_app, ctx, tmp_path):
    """Its message waits for Redis's visibility timeout (hours): the start-up sweep resumes the job at once."""
    org = base_of(ctx, county(ctx), 2)
    path, numbers = _file(tmp_path, "worker-killed.xlsx", org, 6000)
    job_id = _submit(web_app, path)
    wait_for(ctx, [job_id], worker, done=lambda j: j.processed_rows >= 1000)
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=20)
    worker.start()
    job = wait_for(ctx, [job_id], worker, timeout=90)[0]
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert (job.created_rows, job.updated_rows, job.processed_rows, job.attempts) == (6000, 0, 6000, 2)
    assert _members(ctx, numbers, org) == 6000


def test_upload_while_broker_is_down_runs_when_it_returns(worker, web_app, redis_server, ctx, tmp_path):
    from tests.conftest import login

    org = base_of(ctx, county(ctx), 3)
    path, numbers = _file(tmp_path, "brokerdown.xlsx", org, 30)
    client = web_app.test_client()
    assert login(client, "county_admin").status_code == 302
    redis_server.stop()
    try:
        with open(path, "rb") as fh:
            response = client.post("/datajobview/upload", data={"kind": "members", "file": (fh, "brokerdown.xlsx")},
                                   follow_redirects=True)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "后台任务队列暂时不可用" in html and "无需重新提交" in html
        job = ctx.scalars(select(DataJob).where(DataJob.file_name == "brokerdown.xlsx")).one()
        assert job.status == JobStatus.PENDING and job.enqueued_at is None
    finally:
        redis_server.start()
    job = wait_for(ctx, [job.id], worker, timeout=90)[0]
    assert job.status == JobStatus.SUCCEEDED and job.created_rows == 30 and job.enqueued_at is not None
    assert _members(ctx, numbers, org) == 30
