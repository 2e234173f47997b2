"""Jobs end, always: a crashed run is resumed by the sweeper, a fault ends the job with a Chinese
reason and counts of what was committed, 重新执行 continues it (jobs run in-process here)."""
import errno
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from xlsxwriter.exceptions import FileCreateError

from app.services import exports, imports, jobs
from models.base import utcnow
from models.imports import DataJob, JobStatus
from models.members import Member
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row, submit_member_file

ENGLISH = re.compile(r"[A-Za-z]{4,}")  # an exception name or English sentence on a page


@pytest.fixture(autouse=True)
def _quiet_queue(ctx):
    """Jobs other tests left waiting are not this module's: the sweeper here sees only its own."""
    ctx.execute(update(DataJob).where(DataJob.status.in_((JobStatus.PENDING, JobStatus.RUNNING)))
                .values(status=JobStatus.FAILED, message="测试遗留"))
    ctx.commit()


class Crash(BaseException):
    """The process dies mid-import (nothing in the runner may catch it)."""


def _job(ctx, tmp_path, n=30, bad=0, name="f.xlsx"):
    org = base_of(ctx, county(ctx), 0)
    rows = [member_row(org) for _ in range(n)] + [member_row(org, phone="123") for _ in range(bad)]
    return submit_member_file(ctx, make_xlsx(tmp_path / name, [MEMBER_HEADER, *rows])), [r[2] for r in rows]


def _count(ctx, numbers):
    return len(ctx.scalars(select(Member.id).where(Member.id_number.in_(numbers))).all())


def _crash_after(monkeypatch, batches, exc):
    real, calls = imports._write, {"n": 0}

    def write(*args):
        if calls["n"] == batches:
            raise exc
        calls["n"] += 1
        real(*args)
    monkeypatch.setattr(imports, "_write", write)
    return lambda: monkeypatch.setattr(imports, "_write", real)


def test_crashed_run_is_resumed_by_the_sweeper_with_exact_counts(ctx, tmp_path, monkeypatch):
    job, numbers = _job(ctx, tmp_path, n=30)
    restore = _crash_after(monkeypatch, 2, Crash())
    with pytest.raises(Crash):
        imports.run_import(ctx, job.id, batch_size=10)
    ctx.rollback()
    restore()
    job = ctx.get(DataJob, job.id, populate_existing=True)
    assert job.status == JobStatus.RUNNING and job.processed_rows == 20
    assert jobs.sweep(ctx)["resumed"] == 0  # its runner (this process) is alive and beat just now
    ctx.execute(update(DataJob).where(DataJob.id == job.id).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    ctx.commit()
    assert jobs.sweep(ctx)["resumed"] == 1  # in-process: the resumed run ends here
    job = ctx.get(DataJob, job.id, populate_existing=True)
    assert (job.status, job.created_rows, job.processed_rows, job.attempts) == (JobStatus.SUCCEEDED, 30, 30, 2)
    assert _count(ctx, numbers) == 30


def test_job_abandoned_too_often_is_given_up_with_what_was_saved(ctx, tmp_path, monkeypatch):
    job, _numbers = _job(ctx, tmp_path, n=20)
    restore = _crash_after(monkeypatch, 1, Crash())
    with pytest.raises(Crash):
        imports.run_import(ctx, job.id, batch_size=10)
    ctx.rollback()
    restore()
    ctx.execute(update(DataJob).where(DataJob.id == job.id).values(heartbeat_at=utcnow() - timedelta(hours=1),
                                                                    attempts=3))
    ctx.commit()
    assert jobs.sweep(ctx)["given_up"] == 1
    job = ctx.get(DataJob, job.id, populate_existing=True)
    assert job.status == JobStatus.INTERRUPTED and job.status_label == "已中断"
    assert "已保存 10 行" in job.message and "重新执行" in job.message and not ENGLISH.search(job.message)


def test_database_fault_mid_import_is_interrupted_then_resumed(ctx, tmp_path, monkeypatch):
    job, numbers = _job(ctx, tmp_path, n=30)
    fault = ProgrammingError("INSERT …", {}, Exception('relation "member" does not exist'))
    restore = _crash_after(monkeypatch, 2, fault)
    job = imports.run_import(ctx, job.id, batch_size=10)
    restore()
    assert job.status == JobStatus.INTERRUPTED and job.created_rows == 20  # never plain 执行失败 after commits
    assert "数据库" in job.message and "已保存 20 行（新增 20，更新 0）" in job.message
    assert not ENGLISH.search(job.message.replace("flask db upgrade", "")), job.message
    jobs.retry_job(ctx, job.id, actor=None)  # 重新执行: in-process, it runs at once
    job = ctx.get(DataJob, job.id, populate_existing=True)
    assert (job.status, job.created_rows, job.updated_rows, job.message) == (JobStatus.SUCCEEDED, 30, 0, None)
    assert _count(ctx, numbers) == 30


def test_result_file_that_cannot_be_written_ends_the_job_and_retry_writes_it(ctx, tmp_path, monkeypatch):
    from app.storage import store

    job, _numbers = _job(ctx, tmp_path, n=5, bad=2)
    real_put = type(store()).put

    def full_disk(self, kind, path, name=None):
        if kind == "results":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_put(self, kind, path, name)
    monkeypatch.setattr(type(store()), "put", full_disk)
    job = imports.run_import(ctx, job.id)
    monkeypatch.setattr(type(store()), "put", real_put)
    assert job.status == JobStatus.PARTIAL and job.result_name is None and job.created_rows == 5
    assert "服务器存储空间不足" in job.message and "重新执行" in job.message and not ENGLISH.search(job.message)
    jobs.retry_job(ctx, job.id, actor=None)
    job = ctx.get(DataJob, job.id, populate_existing=True)
    assert job.status == JobStatus.PARTIAL and job.result_name and store().exists("results", job.result_name)
    assert (job.created_rows, job.updated_rows, job.error_rows) == (5, 0, 2)


def test_missing_upload_says_upload_again(ctx, tmp_path):
    from app.storage import store

    job, _numbers = _job(ctx, tmp_path, n=3)
    store().delete("uploads", job.stored_name)
    job = imports.run_import(ctx, job.id)
    assert job.status == JobStatus.FAILED and "请重新上传" in job.message and not ENGLISH.search(job.message)


def test_export_on_a_full_disk_fails_in_chinese(ctx, monkeypatch, client_as):
    from models.security import AppUser

    actor = ctx.scalar(select(AppUser).where(AppUser.username == "county_admin"))
    job = exports.create_export_job(ctx, actor=actor, view_name="MemberView", title="会员", args={})

    def no_space(*_args):
        raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.setattr(exports, "write_export", no_space)
    job = exports.run_export(job.id)
    assert job.status == JobStatus.FAILED and job.message.startswith("导出未完成：服务器存储空间不足")
    assert "FileCreateError" not in job.message and not ENGLISH.search(job.message)


def test_second_delivery_leaves_a_live_run_alone_and_a_stolen_lease_stops_the_first(ctx, tmp_path):
    job, _numbers = _job(ctx, tmp_path, n=3)
    first = jobs.claim(ctx, job.id)
    assert first is not None and jobs.claim(ctx, job.id) is None  # the runner is alive and beating
    ctx.execute(update(DataJob).where(DataJob.id == job.id).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    ctx.commit()
    second = jobs.claim(ctx, job.id)
    assert second is not None and second.token != first.token
    with pytest.raises(jobs.LeaseLostError):
        jobs.beat(ctx, first)
    ctx.rollback()
    jobs.beat(ctx, second)
    ctx.commit()


def test_job_left_in_the_outbox_is_sent_by_the_sweeper(ctx, tmp_path):
    job, numbers = _job(ctx, tmp_path, n=4)
    ctx.execute(update(DataJob).where(DataJob.id == job.id).values(created_at=utcnow() - timedelta(minutes=1)))
    ctx.commit()
    assert jobs.sweep(ctx)["sent"] >= 1
    job = ctx.get(DataJob, job.id, populate_existing=True)
    assert job.status == JobStatus.SUCCEEDED and job.enqueued_at is not None and _count(ctx, numbers) == 4


def test_finished_job_is_not_run_again(ctx, tmp_path):
    from app.services.errors import DomainError

    job, _numbers = _job(ctx, tmp_path, n=2)
    imports.run_import(ctx, job.id)
    with pytest.raises(DomainError, match="无需重新执行"):
        jobs.retry_job(ctx, job.id, actor=None)


def test_database_gone_when_the_job_ends_leaves_it_to_the_retry(ctx, tmp_path, monkeypatch):
    """The failure cannot be recorded: the job stays with this try's lease, which the task's retry resumes."""
    job, numbers = _job(ctx, tmp_path, n=6)
    real, calls = imports._finish, []

    def finish(*args):
        if not calls:
            calls.append(1)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
        return real(*args)
    monkeypatch.setattr(imports, "_finish", finish)
    token = jobs.new_token()
    with pytest.raises(OperationalError):
        imports.run_import(ctx, job.id, token=token)
    assert imports.run_import(ctx, job.id).status == JobStatus.RUNNING  # another delivery leaves it alone
    job = imports.run_import(ctx, job.id, resume=token)  # the task's retry
    assert (job.status, job.created_rows, job.attempts) == (JobStatus.SUCCEEDED, 6, 2)
    assert _count(ctx, numbers) == 6
