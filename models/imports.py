"""采集任务: one row per import or large export, processed by Celery."""
from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import LabeledEnum, Model, UTCDateTime, utcnow


class JobStatus(LabeledEnum):
    PENDING = "pending", "待处理"        # queued, the worker has not started it
    RUNNING = "running", "执行中"        # the worker is reading / writing batches
    SUCCEEDED = "succeeded", "执行成功"  # every row accepted (or the export is ready)
    PARTIAL = "partial", "部分成功"      # some rows accepted, the rest in the result file
    FAILED = "failed", "执行失败"        # nothing accepted, or the file could not be read
    INTERRUPTED = "interrupted", "已中断"  # a fault stopped it after rows were committed: 重新执行 resumes


TERMINAL = {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.INTERRUPTED}


class JobDirection(LabeledEnum):
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"


class DataJob(Model):
    """An import of an uploaded xlsx, or an export too large for one request."""

    __tablename__ = "data_job"
    id = Column(Integer, primary_key=True)
    direction = Column(String(10), nullable=False, default=JobDirection.IMPORT)
    kind = Column(String(40), nullable=False)
    kind_label = Column(String(40), nullable=False)
    file_name = Column(String(255), nullable=False)        # what the user uploaded / will download
    stored_name = Column(String(64), info={"file_kinds": ("uploads",)})  # generated, never the upload's name
    result_name = Column(String(64), info={"file_kinds": ("results", "exports")})  # result / export file
    status = Column(String(12), nullable=False, default=JobStatus.PENDING, index=True)
    total_rows = Column(Integer)                           # estimate from the sheet's dimension
    processed_rows = Column(Integer, nullable=False, default=0)  # data rows done: the resume point
    ok_rows = Column(Integer, nullable=False, default=0)
    error_rows = Column(Integer, nullable=False, default=0)
    created_rows = Column(Integer, nullable=False, default=0)
    updated_rows = Column(Integer, nullable=False, default=0)
    message = Column(Text)
    params = Column(JSON)  # exports: view and list filters; imports: the kind's parameters (I-7)
    org_id = Column(Integer, ForeignKey("org.id"), index=True)  # the submitter's org: scope
    org = relationship("Org")
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    submitted_by = relationship("AppUser")
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    started_at = Column(UTCDateTime)
    finished_at = Column(UTCDateTime)
    # durability (app/services/jobs.py): the outbox, the lease of the runner, its heartbeat
    enqueued_at = Column(UTCDateTime)                      # handed to the broker; NULL: still to send
    runner = Column(String(120))                           # "host:pid:token" of the process running it
    heartbeat_at = Column(UTCDateTime)                     # committed by the runner with every batch
    attempts = Column(Integer, nullable=False, default=0)  # runs claimed since the last 重新执行

    __table_args__ = (Index("ix_data_job_org_created", "org_id", "created_at"),)

    def __repr__(self) -> str:
        return f"{self.kind_label} {self.file_name}"

    @property
    def status_label(self) -> str:
        return JobStatus.label_of(self.status)

    @property
    def direction_label(self) -> str:
        return JobDirection.label_of(self.direction)

    @property
    def percent(self) -> int:
        if self.status in TERMINAL and self.status != JobStatus.INTERRUPTED:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))


class JobError(Model):
    """A rejected row: as submitted, with a reason per failed cell (for the result file)."""

    __tablename__ = "data_job_error"
    id = Column(Integer, primary_key=True)
    job_id = Column(Integer, ForeignKey("data_job.id", ondelete="CASCADE"), nullable=False)
    row_no = Column(Integer, nullable=False)     # the sheet row (2 = first data row)
    values = Column(JSON, nullable=False)        # the row as submitted
    reasons = Column(JSON, nullable=False)       # {column key: Chinese reason}

    __table_args__ = (Index("ix_data_job_error_job_row", "job_id", "row_no", unique=True),)


class WorkerHeartbeat(Model):
    """A Celery worker's sign of life, refreshed every WORKER_HEARTBEAT_SECONDS (read by /healthz)."""

    __tablename__ = "worker_heartbeat"
    name = Column(String(200), primary_key=True)  # the worker's node name (celery@host)
    seen_at = Column(UTCDateTime, nullable=False)
