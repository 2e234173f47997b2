"""List exports to xlsx: streamed from the database into a constant-memory sheet.

A view declares its export as ``ExportField``s (a title, a SQL expression and a
formatter, e.g. a mask); rows are fetched as plain tuples in batches, so a
million rows never sit in memory at once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session

from app.extensions import db
from app.services import audit, jobs
from app.storage import store
from app.xlsx.writer import StreamingSheet
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.imports import DataJob, JobDirection, JobStatus

BATCH = 5000


@dataclass(frozen=True)
class ExportField:
    title: str
    expr: Any                                  # a column or SQL expression
    format: Callable[[Any], Any] | None = None  # e.g. mask_id_number, Gender.label_of


def stream_tuples(query) -> Iterator[tuple]:
    """Rows of a (filtered) query in batches; a server-side cursor on PostgreSQL."""
    yield from query.execution_options(stream_results=True, yield_per=BATCH)


def write_export(path, title: str, fields: Sequence[ExportField], rows: Iterable[tuple]) -> int:
    """Write the header and every row (formatted, formula-neutralized); returns the row count."""
    sheet = StreamingSheet(path, title, [f.title for f in fields])
    formats = [f.format for f in fields]
    count = 0
    for row in rows:
        sheet.write([fmt(v) if fmt is not None and v is not None else v for fmt, v in zip(formats, row)])
        count += 1
    sheet.close()
    return count


def download_name(title: str) -> str:
    return f"{title}_{datetime.now(DISPLAY_TZ):%Y%m%d_%H%M}.xlsx"


def audit_export(session, *, actor, title: str, count: int, args: dict, view: str | None = None) -> None:
    """Every export leaves an audit row: who, what list (``view``: the list's permission name, so the
    filters read with that list's labels), how many rows, which filters."""
    detail = {"filters": args, "rows": count, **({"view": view} if view else {})}
    audit.record_now(session, AuditEvent.EXPORT, actor=actor, target_type="export",
                     summary=f"导出「{title}」{count} 行", detail=detail)


def create_export_job(session, *, actor, view_name: str, title: str, args: dict) -> DataJob:
    """An export too large for one request: a job the worker runs (``jobs.enqueue`` it after this commit)."""
    job = DataJob(direction=JobDirection.EXPORT, kind=f"export:{view_name}", kind_label=f"{title}导出",
                  file_name=download_name(title), status=JobStatus.PENDING, params={"view": view_name, "args": args},
                  org_id=getattr(actor, "org_id", None), submitted_by_id=getattr(actor, "id", None))
    session.add(job)
    session.commit()
    return job


def run_export(job_id: int, *, token: str | None = None, resume: str | None = None) -> DataJob | None:
    """Run an export job: rebuild the list request it came from (as its submitter), stream
    the rows into a file, commit progress on a separate session. Safe to run twice; a fault
    ends it 执行失败 with a Chinese reason (nothing half-written is kept).

    Raises:
        jobs.TRANSIENT_DB_ERRORS: the database went away; the task retries.
    """
    progress = Session(bind=db.engine, expire_on_commit=False)
    try:
        return _run_export(progress, job_id, token, resume)
    finally:
        progress.close()


def _run_export(progress: Session, job_id: int, token, resume) -> DataJob | None:
    lease = jobs.claim(progress, job_id, token=token, resume=resume)
    job = progress.get(DataJob, job_id)
    if lease is None:
        return job
    view = next(v for v in current_app.appbuilder.baseviews if v.class_permission_name == job.params["view"])
    actor = db.session.get(type(job.submitted_by), job.submitted_by_id) if job.submitted_by_id else None

    def counted(rows):
        for n, row in enumerate(rows, 1):
            if n % 50_000 == 0:
                job.processed_rows = n
                jobs.beat(progress, lease)
                progress.commit()
            yield row

    try:
        with current_app.test_request_context(query_string=job.params["args"]):
            g.user = actor
            query = view.export_query()
            with store().scratch(".xlsx") as path:
                count = write_export(path, str(view.list_title), view.export_fields, counted(stream_tuples(query)))
                name = store().put("exports", path)
        job.result_name, job.processed_rows, job.ok_rows = name, count, count
        job.total_rows, job.status = count, JobStatus.SUCCEEDED
        audit_export(db.session, actor=actor, title=str(view.list_title), count=count, args=job.params["args"],
                     view=job.params["view"])
    except jobs.LeaseLostError:
        progress.rollback()
        return job
    except jobs.TRANSIENT_DB_ERRORS:
        progress.rollback()
        db.session.rollback()
        raise
    except Exception as err:
        progress.rollback()
        db.session.rollback()
        current_app.logger.exception("export job %s failed", job_id)
        what, todo = jobs.describe_fault(err)
        job.status, job.message = JobStatus.FAILED, jobs.fault_message(job, what, todo, resumable=True)
    job.finished_at = utcnow()
    try:
        jobs.beat(progress, lease)
    except jobs.LeaseLostError:
        progress.rollback()
        return job
    progress.commit()
    return job
