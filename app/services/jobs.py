"""Jobs that never hang: the outbox of enqueues, the runner's lease and heartbeat, the sweeper,
重新执行, and the Chinese account of every fault.

- A job row is committed before its task is sent (``enqueued_at`` NULL = still in the outbox);
  ``enqueue`` sends it, and the sweeper sends whatever the broker refused.
- A runner ``claim``s the job (a compare-and-set on ``attempts``): it records ``runner`` and
  ``heartbeat_at``, and commits ``beat`` with every batch; a beat that finds another runner
  stops it (``LeaseLostError``), so two deliveries of one message never both write.
- A running job is abandoned when its heartbeat is older than ``JOB_STALE_SECONDS``, or at
  once when its runner was a process of this host that no longer exists (a killed child):
  the sweeper (beat, and at worker start) sends it again and the runner resumes at
  ``processed_rows``; after ``JOB_MAX_ATTEMPTS`` runs it is given up with a Chinese reason.
"""
from __future__ import annotations

import errno
import logging
import os
import socket
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.services.errors import DomainError, NotFoundError
from models.base import utcnow
from models.imports import TERMINAL, DataJob, JobDirection, JobStatus, WorkerHeartbeat

log = logging.getLogger(__name__)

TASKS = {JobDirection.IMPORT: "imports.run", JobDirection.EXPORT: "exports.run"}
# the database went away: the runner retries later instead of recording a failure it cannot write
TRANSIENT_DB_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError)
HOST = socket.gethostname()


class LeaseLostError(RuntimeError):
    """Another runner claimed the job (this one was judged abandoned): stop without writing."""


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: str


def new_token() -> str:
    """``host:pid:random``: who runs a job, and whether that process still exists."""
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _runner_gone(runner: str) -> bool:
    """The runner was a process of this host that has exited (pid reuse only delays this)."""
    host, _, rest = runner.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_abandoned(job: DataJob, now: datetime | None = None) -> bool:
    """A running job nobody is running any more."""
    if job.status != JobStatus.RUNNING:
        return False
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    if not job.runner or job.heartbeat_at is None or job.heartbeat_at < stale:
        return True
    return _runner_gone(job.runner)


def is_stuck(job: DataJob, now: datetime | None = None) -> bool:
    """Waiting or running without progress: what 重新执行 may take over."""
    now = now or utcnow()
    if job.status == JobStatus.PENDING:
        waited = now - (job.enqueued_at or job.created_at)
        return waited > timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    return is_abandoned(job, now)


# --- the runner's side ------------------------------------------------------------
def claim(session: Session, job_id: int, *, token: str | None = None, resume: str | None = None) -> Lease | None:
    """Take the job for this runner; None when it is finished, missing, or run by a live runner.

    ``resume`` is the token of this task's previous try (a retry after a database fault).
    A job abandoned ``JOB_MAX_ATTEMPTS`` times is given up here instead of run again.
    """
    job = session.get(DataJob, job_id, populate_existing=True)
    if job is None or job.status in TERMINAL:
        return None
    now = utcnow()
    if job.status == JobStatus.RUNNING and job.runner != resume and not is_abandoned(job, now):
        log.info("job %s is run by %s: this delivery leaves it", job_id, job.runner)
        return None
    if job.status == JobStatus.RUNNING and job.attempts >= current_app.config["JOB_MAX_ATTEMPTS"]:
        give_up(session, job)
        return None
    token = token or new_token()
    claimed = session.execute(
        update(DataJob).where(DataJob.id == job_id, DataJob.status == job.status, DataJob.attempts == job.attempts)
        .values(status=JobStatus.RUNNING, runner=token, heartbeat_at=now, attempts=DataJob.attempts + 1,
                started_at=func.coalesce(DataJob.started_at, now), finished_at=None)
    ).rowcount
    session.commit()
    if claimed != 1:
        return None
    session.refresh(job)
    return Lease(job_id, token)


def beat(bind, lease: Lease) -> None:
    """The heartbeat, in the caller's transaction (a Session or Connection): committed with the
    batch it vouches for.

    Raises:
        LeaseLostError: another runner holds the job now.
    """
    done = bind.execute(update(DataJob).where(DataJob.id == lease.job_id, DataJob.runner == lease.token)
                        .values(heartbeat_at=utcnow())).rowcount
    if done != 1:
        raise LeaseLostError(f"job {lease.job_id} is no longer {lease.token}")


def beat_now(lease: Lease) -> None:
    """A heartbeat in its own short transaction (while the runner's session streams a cursor)."""
    from app.extensions import db

    with db.engine.begin() as connection:
        beat(connection, lease)


def give_up(session: Session, job: DataJob) -> None:
    """End a job whose runs keep dying (``JOB_MAX_ATTEMPTS``): 已中断 when rows were committed, else 执行失败."""
    job.status = JobStatus.INTERRUPTED if job.ok_rows else JobStatus.FAILED
    job.message = fault_message(job, f"处理进程 {job.attempts} 次意外中止",
                                "可稍后点击「重新执行」从中断处继续；如仍中断，请把文件拆分为较小的文件后分别上传，或联系系统管理员",
                                resumable=False)
    job.finished_at = utcnow()
    session.commit()


# --- faults in words --------------------------------------------------------------
def describe_fault(err: BaseException) -> tuple[str, str]:
    """(what happened, what the user should do) for an unexpected exception, in Chinese."""
    from app.storage import StorageFullError

    cause = err
    if type(err).__name__ == "FileCreateError" and err.args and isinstance(err.args[0], BaseException):
        cause = err.args[0]  # xlsxwriter wraps the OSError of its output file
    if isinstance(cause, StorageFullError) or (isinstance(cause, OSError) and cause.errno in (errno.ENOSPC,
                                                                                             errno.EDQUOT)):
        return "服务器存储空间不足", "请联系系统管理员清理存储空间"
    if isinstance(cause, FileNotFoundError):
        return "上传的原始文件已不在服务器上（可能已超过保留期限被清理）", "请重新上传该文件"
    if isinstance(cause, MemoryError):
        return "文件过大，服务器内存不足", "请把文件拆分为多个较小的文件后分别上传"
    if isinstance(cause, TRANSIENT_DB_ERRORS):
        return "数据库暂时无法访问", "请稍后重试；如仍失败请联系系统管理员"
    if isinstance(cause, sa_exc.DBAPIError):
        return "数据库拒绝了本次写入（数据库结构可能与程序版本不一致）", "请联系系统管理员检查数据库（执行 flask db upgrade）"
    if isinstance(cause, (zipfile.BadZipFile, UnicodeError)) or type(cause).__module__.startswith("python_calamine"):
        return "文件内容无法读取（文件可能已损坏，或不是 Excel 保存的 .xlsx 文件）", "请用 Excel 打开后另存为 .xlsx 再上传"
    if isinstance(cause, OSError):
        return "服务器文件存储暂时不可用", "请稍后重试；如仍失败请联系系统管理员"
    return "处理时发生意外错误", "请联系系统管理员"


def fault_message(job: DataJob, what: str, todo: str, *, resumable: bool) -> str:
    """A job's message after a fault: what happened, what was committed, what to do."""
    verb = "导出" if job.direction == JobDirection.EXPORT else "导入"
    if job.direction == JobDirection.EXPORT:
        kept = "文件未生成。"
    elif job.ok_rows:
        kept = (f"中断前已保存 {job.ok_rows} 行（新增 {job.created_rows}，更新 {job.updated_rows}）"
                f"{f'，未通过校验 {job.error_rows} 行' if job.error_rows else ''}，这些数据有效。")
    else:
        kept = "尚未保存任何数据。"
    then = "，然后点击「重新执行」从中断处继续" if resumable and job.direction == JobDirection.IMPORT else (
        "，然后点击「重新执行」" if resumable else "")
    return f"{verb}未完成：{what}。{kept}{todo}{then}（任务编号 {job.id}）。"


# --- the outbox and the sweeper -------------------------------------------------------
def enqueue(session: Session, job: DataJob) -> bool:
    """Send a committed job to the workers. False when the broker is unreachable: the job stays
    in the outbox (``enqueued_at`` NULL) and the sweeper sends it once the broker is back."""
    from kombu.exceptions import OperationalError as BrokerError

    job_id, task = job.id, current_app.extensions["celery"].tasks[TASKS[JobDirection(job.direction)]]
    try:
        task.apply_async(args=[job_id], retry=False)
    except (BrokerError, OSError) as err:
        session.rollback()
        log.warning("broker unreachable, job %s stays in the outbox: %s", job_id, err)
        return False
    session.execute(update(DataJob).where(DataJob.id == job_id).values(enqueued_at=utcnow()))
    session.commit()
    return True


def sweep(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Send the outbox, send again what was lost, resume or give up abandoned runs.

    Runs on beat every ``JOB_SWEEP_SECONDS`` and when a worker starts; safe anywhere, any time:
    a job sent twice is claimed once.
    """
    cfg = current_app.config
    now = now or utcnow()
    settled = now - timedelta(seconds=10)  # the web request sends its own job right after the commit
    resend = now - timedelta(seconds=cfg["JOB_RESEND_SECONDS"])
    counts = {"sent": 0, "resumed": 0, "given_up": 0, "unsent": 0}
    pending = session.scalars(select(DataJob).where(DataJob.status == JobStatus.PENDING, or_(
        DataJob.enqueued_at.is_(None) & (DataJob.created_at < settled), DataJob.enqueued_at < resend))
        .order_by(DataJob.id)).all()
    running = session.scalars(select(DataJob).where(DataJob.status == JobStatus.RUNNING).order_by(DataJob.id)).all()
    for job in pending:
        counts["sent" if enqueue(session, job) else "unsent"] += 1
    for job in running:
        if not is_abandoned(job, now):
            continue
        if job.attempts >= cfg["JOB_MAX_ATTEMPTS"]:
            give_up(session, job)
            counts["given_up"] += 1
        elif enqueue(session, job):
            counts["resumed"] += 1
        else:
            counts["unsent"] += 1
    if any(counts.values()):
        log.info("job sweep: %s", counts)
    return counts


def retry_job(session: Session, job_id: int, *, actor) -> DataJob:
    """重新执行: a failed, interrupted or stuck job runs again, resuming after its committed rows.

    Raises:
        NotFoundError: no such job. DomainError: the job finished well or is running normally.
    """
    from app.services import audit
    from models.audit import AuditEvent

    job = session.get(DataJob, job_id, populate_existing=True)
    if job is None:
        raise NotFoundError("任务不存在")
    retryable = job.status in (JobStatus.FAILED, JobStatus.INTERRUPTED) or is_stuck(job) or (
        job.status == JobStatus.PARTIAL and not job.result_name)
    if not retryable:
        if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
            raise DomainError("任务正在排队或执行中，无需重新执行", code="job_active")
        raise DomainError("任务已完成，无需重新执行", code="job_done")
    job.status, job.message, job.attempts, job.finished_at = JobStatus.PENDING, None, 0, None
    job.runner, job.heartbeat_at, job.enqueued_at = None, None, None
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="data_job", target_id=job.id,
                 summary=f"重新执行{job.kind_label}「{job.file_name}」")
    session.commit()
    enqueue(session, job)
    return job


# --- workers' sign of life (/healthz) ---------------------------------------------------
def record_worker_alive(session: Session, name: str) -> None:
    if not session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.name == name)
                           .values(seen_at=utcnow())).rowcount:
        session.add(WorkerHeartbeat(name=name, seen_at=utcnow()))
    session.commit()


def forget_worker(session: Session, name: str) -> None:
    session.execute(WorkerHeartbeat.__table__.delete().where(WorkerHeartbeat.name == name))
    session.commit()


def workers_alive(session: Session, max_age: int) -> int:
    since = utcnow() - timedelta(seconds=max_age)
    return session.scalar(select(func.count()).select_from(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= since))
