"""The import engine (采集任务): one registry of kinds, one runner for all of them.

A kind declares its template columns, a pure row parser (cells in → record and
errors out) and a bulk writer (records in → created / updated / rejected). The
runner reads the sheet, parses and writes in batches, commits the job's progress
with every batch (a crash resumes at ``processed_rows``; upserts make a re-run
harmless) and finally writes the result file of rejected rows.
"""
from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.forked import ChildFailed, forked
from app.masking import mask_id_number, mask_phone
from app.services import audit, jobs
from app.services.errors import DomainError, NotFoundError
from app.storage import store
from app.xlsx.cells import text
from app.xlsx.reader import check_bounds, read_rows
from app.xlsx.safety import HostileFileError, check_xlsx
from app.xlsx.writer import SheetSpec, StreamingSheet, header_title
from models.audit import AuditEvent
from models.base import utcnow
from models.imports import DataJob, JobDirection, JobError, JobStatus

ROW_ERROR = "_row"  # a reason about the whole row rather than one cell


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: str
    sheet: SheetSpec
    # (session, job, actor) -> whatever the parser and writer need, prepared once
    make_context: Callable[[Session, DataJob, Any], Any]
    # (cells by column key, context) -> (record or None, {column key: reason})
    parse_row: Callable[[dict, Any], tuple[Any, dict]]
    # (session, [(row_no, record)], context, actor) -> (created, updated, [(row_no, {key: reason})])
    write_batch: Callable[[Session, list, Any, Any], tuple[int, int, list]]
    # who may import this kind (and download its template): ``permission`` on ``view_name``; the same
    # view's ``can_unmask`` shows the result file unmasked
    view_name: str = ""
    permission: str = "can_add"
    # kinds with parameters (I-7): (session, actor, params) -> the params to keep on the job, checked
    # at submission (e.g. the enrollment and plan a person list belongs to); make_context reads job.params
    check_params: Callable[[Session, Any, dict], dict] | None = None


REGISTRY: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    REGISTRY[kind.key] = kind
    return kind


def may_import(kind: ImportKind, has_access: Callable[[str, str], bool]) -> bool:
    """Whether a user (``has_access`` of the security manager) may import ``kind`` and download its
    template: the kind's own grant, on top of the job pages' ``can_import``."""
    return bool(kind.view_name) and has_access(kind.permission, kind.view_name)


def get_kind(key: str) -> ImportKind:
    try:
        return REGISTRY[key]
    except KeyError:
        raise NotFoundError("不支持的导入类型") from None


def save_upload(stream, max_bytes: int, kind: ImportKind | None = None) -> str:
    """Copy an upload into the file store under a generated name, stopping as soon as it
    exceeds the limit; returns the stored name.

    Raises:
        DomainError: too large, refused by the safety checks, or no room to keep it (nothing is kept).
    """
    with store().scratch(".xlsx") as path:
        written = 0
        try:
            with path.open("wb") as out:
                while chunk := stream.read(1024 * 1024):
                    written += len(chunk)
                    if written > max_bytes:
                        break
                    out.write(chunk)
        except OSError as err:  # disk full mid-upload: the scratch file goes with the block
            what, todo = jobs.describe_fault(err)
            raise DomainError(f"文件未能保存：{what}，{todo}", code="storage_unavailable") from None
        try:
            if written > max_bytes:
                raise HostileFileError(f"文件过大，上限为 {max_bytes / 1048576:.0f} MB")
            check_xlsx(path, max_bytes=max_bytes)
            if kind is not None:
                # too wide or too long: refused now rather than in the job
                sheet_bounds(path, kind, scan_up_to=UPLOAD_SCAN_BYTES)
        except HostileFileError as err:
            raise DomainError(str(err), code="file_refused") from None
        return store().put("uploads", path)


def submit_import(session: Session, *, actor, kind_key: str, file_name: str, stream, params: dict | None = None,
                  org_id: int | None = None) -> DataJob:
    """Store an upload and create its job (待处理). The caller sends it (``jobs.enqueue``) after this commit.

    ``params`` go through the kind's ``check_params`` and are kept on the job (``DataJob.params``);
    ``org_id`` (the job's scope) defaults to the actor's org.

    Raises:
        NotFoundError: unknown kind (or parameters outside the actor's scope). DomainError: the file
        or the parameters are refused.
    """
    kind = get_kind(kind_key)
    if kind.check_params is not None:
        params = kind.check_params(session, actor, dict(params or {}))
    if not (file_name or "").lower().endswith(".xlsx"):
        raise DomainError("请上传 .xlsx 格式的文件（可先下载模板）", code="file_refused")
    stored_name = save_upload(stream, current_app.config["IMPORT_MAX_BYTES"], kind)
    job = DataJob(direction=JobDirection.IMPORT, kind=kind.key, kind_label=kind.label,
                  file_name=Path(file_name).name[:255], stored_name=stored_name, status=JobStatus.PENDING,
                  params=params or None, org_id=org_id if org_id is not None else getattr(actor, "org_id", None),
                  submitted_by_id=getattr(actor, "id", None))
    session.add(job)
    session.commit()
    return job


def _header_map(kind: ImportKind, header: list) -> dict[int, str]:
    titles = {c.title: c.key for c in kind.sheet.columns}
    mapping = {}
    for index, cell in enumerate(header):
        title = text(cell).lstrip("*").strip()
        if title in titles:
            mapping[index] = titles[title]
    missing = [c.title for c in kind.sheet.columns if c.required and c.key not in mapping.values()]
    if missing:
        raise DomainError(f"表头缺少必填列：{'、'.join(missing)}（请使用最新模板）")
    return mapping


def _plain(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else text(value)


def run_import(session: Session, job_id: int, *, batch_size: int = 20000, token: str | None = None,
               resume: str | None = None) -> DataJob:
    """Process an import job; safe to run twice (terminal jobs and jobs another runner holds are
    left alone, an abandoned one resumes after its last committed batch).

    Raises:
        jobs.TRANSIENT_DB_ERRORS: the database went away; the task retries (the job stays 执行中
        with this runner's token, and the sweeper takes it over if the retry never comes).
    """
    lease = jobs.claim(session, job_id, token=token, resume=resume)
    job = session.get(DataJob, job_id)
    if lease is None:
        return job
    kind = get_kind(job.kind)
    actor = job.submitted_by
    try:
        with store().local_copy("uploads", job.stored_name) as path:
            bounds = sheet_bounds(path, kind)
            job.total_rows = max(bounds.rows - 1, 0) if bounds.rows else None
            jobs.beat(session, lease)
            session.commit()
            with audit.acting_as(actor):
                _run_batches(session, job, kind, actor, path, batch_size, lease, bounds)
        _finish(session, job, kind, lease)
    except jobs.LeaseLostError:
        session.rollback()
        return session.get(DataJob, job_id)
    except jobs.TRANSIENT_DB_ERRORS:
        session.rollback()
        raise
    except (DomainError, HostileFileError) as err:
        session.rollback()
        job.status = JobStatus.INTERRUPTED if job.ok_rows else JobStatus.FAILED
        job.message = str(err) if not job.ok_rows else jobs.fault_message(
            job, str(err).rstrip("。"), "请改正文件后重新上传（已保存的行再次导入不会重复）", resumable=False)
    except Exception as err:  # a fault must end the job with a Chinese reason, never leave it 执行中
        session.rollback()
        current_app.logger.exception("import job %s failed", job_id)
        what, todo = jobs.describe_fault(err)
        job.status = JobStatus.INTERRUPTED if job.ok_rows else JobStatus.FAILED
        job.message = jobs.fault_message(job, what, todo, resumable=not isinstance(err, FileNotFoundError))
    job.finished_at = utcnow()
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="data_job", target_id=job.id,
                 summary=f"{job.kind_label}「{job.file_name}」{job.status_label}：新增{job.created_rows}，"
                         f"更新{job.updated_rows}，失败{job.error_rows}")
    try:
        jobs.beat(session, lease)  # the final state commits only while the job is still ours
    except jobs.LeaseLostError:
        session.rollback()
        return session.get(DataJob, job_id)
    session.commit()
    return job


def _finish(session, job, kind, lease) -> None:
    """Every batch is in: the result file of rejected rows, the final status."""
    result_fault = None
    if job.error_rows:
        try:
            job.result_name = _write_result_file(session, job, kind, lease)
        except (jobs.LeaseLostError, *jobs.TRANSIENT_DB_ERRORS):
            raise
        except Exception as err:  # the rows are committed: the job ends, only the file is missing
            session.rollback()
            current_app.logger.exception("result file of job %s not written", job.id)
            result_fault = jobs.describe_fault(err)
    if job.error_rows == 0 and job.ok_rows:
        job.status = JobStatus.SUCCEEDED
    elif job.ok_rows:
        job.status = JobStatus.PARTIAL
    else:
        job.status = JobStatus.FAILED
        job.message = job.message or ("文件中没有数据行" if not job.error_rows else "所有数据行均未通过校验")
    if result_fault:
        what, todo = result_fault
        saved = f"已保存 {job.ok_rows} 行（已保存的数据不受影响），" if job.ok_rows else ""
        job.message = (f"{saved}未通过校验 {job.error_rows} 行，但「导出结果」文件未能生成：{what}。"
                       f"{todo}后点击「重新执行」即可重新生成。")
    if job.total_rows is None or job.total_rows < job.processed_rows:
        job.total_rows = job.processed_rows


# an upload scans the whole sheet (not only its <dimension>) up to this much XML; the job always does
UPLOAD_SCAN_BYTES = 8 * 1024 * 1024


def sheet_bounds(path, kind: ImportKind, *, scan_up_to: int | None = None):
    """The first sheet's extent checked against the kind (before any reader allocates for it).

    Raises:
        HostileFileError: too wide or too long. DomainError: the file cannot be read (bad CRC, no sheet).
    """
    try:
        return check_bounds(path, columns=len(kind.sheet.columns), max_rows=current_app.config["IMPORT_MAX_ROWS"],
                            scan_up_to=scan_up_to)
    except HostileFileError:
        raise
    except (zipfile.BadZipFile, KeyError, AttributeError, EOFError, zlib.error):
        raise DomainError("文件已损坏（压缩数据校验失败或缺少工作表），无法读取；"
                          "请用 Excel 打开后另存为 .xlsx 再上传", code="file_refused") from None


def _run_batches(session, job, kind, actor, path, batch_size, lease, bounds):
    """Read and parse (pure work) in a forked child under a memory limit while this process
    writes: a hostile sheet fails its own job, never the worker."""
    context = kind.make_context(session, job, actor)
    stream = True if bounds.sparse else None  # a sparse range streams; otherwise the size decides
    limit = current_app.config["IMPORT_PARSE_MEMORY_MB"] * 1024 * 1024
    batches = forked(_parsed_batches_of_file, path, kind, context, job.processed_rows, batch_size, stream,
                     memory_limit=limit)
    for batch in _read_guarded(batches, job):
        _write(session, job, kind, context, actor, batch, lease)


def _read_guarded(batches, job):
    """The child's batches; what went wrong reading the file becomes a Chinese DomainError."""
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (DomainError, HostileFileError):
            raise
        except ChildFailed as err:
            current_app.logger.warning("import job %s: reader failed: %s", job.id, err)
            raise DomainError(f"{err}，请检查文件（勿含超出模板范围的单元格）或拆分后重新上传") from None
        except Exception as err:  # the child only reads and parses: a failure there is about the file
            current_app.logger.warning("import job %s: file unreadable: %r", job.id, err)
            raise DomainError("文件内容无法读取（文件可能已损坏，或不是 Excel 保存的 .xlsx 文件），"
                              "请用 Excel 打开后另存为 .xlsx 再上传") from None
        yield batch


def _parsed_batches_of_file(path, kind, context, skip, batch_size, stream):
    rows = read_rows(path, stream=stream)
    header = next(rows, None)
    if header is None:
        raise DomainError("文件是空的")
    mapping = list(_header_map(kind, header).items())
    yield from _parsed_batches(rows, kind, context, mapping, skip, batch_size)


def _parsed_batches(rows, kind, context, mapping, skip, batch_size):
    """Batches of (sheet row, cells by column key, record or None, errors) after ``skip`` data rows."""
    width = max(i for i, _key in mapping) + 1
    batch, done = [], 0
    for sheet_row, cells in enumerate(rows, start=2):
        if cells.count(None) == len(cells):
            continue  # blank line
        done += 1
        if done <= skip:
            continue  # committed before a crash: resume after it
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        values = {key: cells[i] for i, key in mapping}
        values["_row_no"] = sheet_row
        record, errors = kind.parse_row(values, context)
        batch.append((sheet_row, values, record, errors))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(session, job, kind, context, actor, batch, lease):
    valid = [(row_no, record) for row_no, _values, record, errors in batch if not errors]
    rejected = [(row_no, values, errors) for row_no, values, _record, errors in batch if errors]
    created, updated, write_errors = kind.write_batch(session, valid, context, actor) if valid else (0, 0, [])
    by_row = {row_no: values for row_no, values, _record, _errors in batch}
    rejected += [(row_no, by_row[row_no], errors) for row_no, errors in write_errors]
    if rejected:
        session.execute(insert(JobError), [
            {"job_id": job.id, "row_no": row_no, "values": {k: _plain(v) for k, v in values.items() if k != "_row_no"},
             "reasons": errors} for row_no, values, errors in rejected])
    job.processed_rows += len(batch)
    job.created_rows += created
    job.updated_rows += updated
    job.ok_rows += len(valid) - len(write_errors)
    job.error_rows += len(rejected)
    jobs.beat(session, lease)  # the batch commits only while the job is still ours
    session.commit()


def _write_result_file(session, job, kind, lease) -> str:
    """导出结果: the rejected rows as submitted, failed cells marked, reasons in a last column."""
    with store().scratch(".xlsx") as path:
        _result_sheet(session, job, kind, path, lease=lease)
        return store().put("results", path)


def _result_sheet(session, job, kind, path, *, lease=None, masks: dict | None = None) -> None:
    columns = kind.sheet.columns
    titles = {c.key: c.title for c in columns}
    masks = masks or {}
    sheet = StreamingSheet(path, kind.sheet.title, [header_title(c) for c in columns] + ["错误原因"])
    errors = session.scalars(select(JobError).where(JobError.job_id == job.id).order_by(JobError.row_no)
                             .execution_options(yield_per=2000))
    for n, error in enumerate(errors, 1):
        if lease is not None and n % 20000 == 0:
            jobs.beat_now(lease)
        reasons = error.reasons
        marked = [i for i, c in enumerate(columns) if c.key in reasons]
        explained = "；".join(f"{titles.get(k, '整行')}：{v}" if k != ROW_ERROR else v for k, v in reasons.items())
        values = [error.values.get(c.key) for c in columns]
        if masks:
            values = [masks[c.key](text(v)) if c.key in masks and v not in (None, "") else v
                      for c, v in zip(columns, values)]
        sheet.write(values + [f"第{error.row_no}行 {explained}"], marked)
    sheet.close()


# personal data a result file shows only to its submitter and to holders of ``unmask`` (issue 8 §2.2)
MASKS: dict[str, Callable[[str], str]] = {"id_number": mask_id_number, "phone": mask_phone, "mobile": mask_phone}


def masks_of(kind: ImportKind) -> dict:
    return {c.key: MASKS[c.key] for c in kind.sheet.columns if c.key in MASKS}


def sees_raw_file(job: DataJob, user, has_access: Callable[[str, str], bool]) -> bool:
    """Whether ``user`` gets a job's file as written: its submitter, or a holder of ``can_unmask``
    on the view the job belongs to (the import kind's view, the exported list)."""
    if user is not None and job.submitted_by_id is not None and job.submitted_by_id == getattr(user, "id", None):
        return True
    if job.direction == JobDirection.IMPORT:
        view_name = REGISTRY[job.kind].view_name if job.kind in REGISTRY else ""
    else:
        view_name = (job.params or {}).get("view") or job.kind.partition(":")[2]
    return bool(view_name) and has_access("can_unmask", view_name)


def masked_result(session, job: DataJob) -> bytes:
    """导出结果 of an import with ID numbers and phones masked (for whoever may see the job but not
    the raw data, e.g. the auditor), written afresh from the rejected rows.

    Raises:
        NotFoundError: the job has no result file (or is not an import of a known kind).
    """
    if job.direction != JobDirection.IMPORT or job.kind not in REGISTRY or not store().exists("results", job.result_name):
        raise NotFoundError("该任务没有可下载的文件")
    kind = REGISTRY[job.kind]
    with store().scratch(".xlsx") as path:
        _result_sheet(session, job, kind, path, masks=masks_of(kind))
        return path.read_bytes()


def job_file(job: DataJob, which: str) -> tuple[str, str, str]:
    """(store kind, stored name, download name) of a job's result or export file.

    Raises:
        NotFoundError: no such file for this job.
    """
    kind = "results" if job.direction == JobDirection.IMPORT else "exports"
    stored = job.result_name if which == "result" else None
    if not store().exists(kind, stored):
        raise NotFoundError("该任务没有可下载的文件")
    stem = Path(job.file_name).stem
    suffix = "导出结果" if job.direction == JobDirection.IMPORT else ""
    return kind, stored, f"{stem}{'_' + suffix if suffix else ''}.xlsx"
