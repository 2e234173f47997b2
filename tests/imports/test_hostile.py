"""§3.1/§3.2 Hostile sheets fail their own job (or their upload) with a Chinese reason, never the worker."""
import os
import shutil
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.forked import ChildFailed, forked
from app.services import imports
from app.services.errors import DomainError
from app.storage import store
from app.xlsx.reader import check_bounds
from app.xlsx.safety import HostileFileError
from models.imports import DataJob, JobDirection, JobStatus
from models.members import Member
from models.security import AppUser
from tests.factories import base_of, county, member_row
from tests.imports.hostile import corrupt_crc, write_xlsx


def _job_of_stored_file(ctx, path, username="county_admin"):
    """A job whose file skipped the upload checks (as if they had missed it)."""
    actor = ctx.scalar(select(AppUser).where(AppUser.username == username))
    copy = Path(path).with_name(f"stored-{Path(path).name}")
    shutil.copy(path, copy)  # (the store moves what it is given)
    job = DataJob(direction=JobDirection.IMPORT, kind="members", kind_label="会员信息采集", file_name="h.xlsx",
                  stored_name=store().put("uploads", copy), status=JobStatus.PENDING, org_id=actor.org_id,
                  submitted_by_id=actor.id)
    ctx.add(job)
    ctx.commit()
    return job


def _upload_refusal(ctx, path):
    actor = ctx.scalar(select(AppUser).where(AppUser.username == "county_admin"))
    with open(path, "rb") as fh, pytest.raises(DomainError) as err:
        imports.submit_import(ctx, actor=actor, kind_key="members", file_name="h.xlsx", stream=fh)
    return err.value.message


def test_a_cell_at_xfd1048576_is_refused_before_reading(ctx, tmp_path):
    path = write_xlsx(tmp_path / "xfd.xlsx", extra_cell="XFD1048576")
    assert os.path.getsize(path) < 2000
    before = ctx.query(DataJob).count()
    assert "列数超出模板" in _upload_refusal(ctx, path)
    assert ctx.query(DataJob).count() == before
    job = imports.run_import(ctx, _job_of_stored_file(ctx, path).id)
    assert job.status == JobStatus.FAILED and "列数超出模板" in job.message and job.finished_at
    # declared only (<dimension>) is refused too, and so are rows beyond IMPORT_MAX_ROWS
    with pytest.raises(HostileFileError, match="列数超出模板"):
        check_bounds(write_xlsx(tmp_path / "dim.xlsx", dimension="A1:XFD1048576"), columns=13, max_rows=100)
    with pytest.raises(HostileFileError, match="行数超过上限"):
        check_bounds(write_xlsx(tmp_path / "tall.xlsx", extra_cell="A102"), columns=13, max_rows=100)
    with pytest.raises(HostileFileError, match="行数超过上限"):
        check_bounds(write_xlsx(tmp_path / "tall2.xlsx", dimension="A1:M5000"), columns=13, max_rows=100)
    check_bounds(write_xlsx(tmp_path / "ok.xlsx", extra_cell="W101"), columns=13, max_rows=100)


def test_a_reference_split_by_whitespace_is_still_seen(tmp_path):
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c\nr="XFD1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
    with pytest.raises(HostileFileError, match="列数超出模板"):
        check_bounds(write_xlsx(tmp_path / "nl.xlsx", sheet=sheet), columns=13, max_rows=100)


def test_a_lone_cell_at_m1000000_streams_in_little_memory(app, ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    row = member_row(own)
    path = write_xlsx(tmp_path / "m.xlsx", [row], extra_cell="M1000000")
    assert os.path.getsize(path) < 2000
    assert check_bounds(path, columns=13, max_rows=1_000_000).sparse
    app.config["IMPORT_PARSE_MEMORY_MB"] = 200  # calamine would ask for 416 MB for this range
    try:
        job = imports.run_import(ctx, _job_of_stored_file(ctx, path).id)
    finally:
        app.config["IMPORT_PARSE_MEMORY_MB"] = 1024
    assert (job.status, job.created_rows, job.error_rows) == (JobStatus.PARTIAL, 1, 1)
    assert ctx.scalar(select(Member).where(Member.id_number == row[2])) is not None


def test_what_slips_past_the_checks_dies_in_the_child_not_the_worker(app, ctx, tmp_path, monkeypatch):
    from app.xlsx import reader

    path = write_xlsx(tmp_path / "xfd.xlsx", extra_cell="XFD1048576")
    monkeypatch.setattr(imports, "check_bounds", lambda *a, **k: reader.SheetBounds(size=1, rows=None, sparse=False))
    job = imports.run_import(ctx, _job_of_stored_file(ctx, path).id)
    assert job.status == JobStatus.FAILED and "超出内存限制" in job.message and job.finished_at
    # this process (the worker) is alive and the next job runs
    own = base_of(ctx, county(ctx), 0)
    ok = imports.run_import(ctx, _job_of_stored_file(ctx, write_xlsx(tmp_path / "ok.xlsx", [member_row(own)])).id)
    assert ok.status == JobStatus.SUCCEEDED


def _aborts():
    yield [1]
    os.kill(os.getpid(), signal.SIGABRT)


def _allocates():
    yield [1]
    yield [bytearray(2 * 1024 * 1024 * 1024)]


def _refuses():
    raise DomainError("文件是空的")
    yield


def test_forked_reports_a_dead_child_and_keeps_domain_errors():
    batches = forked(_aborts, memory_limit=64 * 1024 * 1024)
    assert next(batches) == [1]
    with pytest.raises(ChildFailed, match="超出内存限制"):
        next(batches)
    with pytest.raises(ChildFailed, match="超出内存限制"):
        list(forked(_allocates, memory_limit=256 * 1024 * 1024))
    with pytest.raises(DomainError, match="文件是空的"):
        list(forked(_refuses))
    assert list(forked(lambda: iter([[1], [2]]))) == [[1], [2]]


def test_a_bad_crc_is_a_chinese_error_at_upload_and_in_the_job(ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    path = corrupt_crc(write_xlsx(tmp_path / "crc.xlsx", [member_row(own) for _ in range(30)]))
    assert "文件已损坏" in _upload_refusal(ctx, path)
    job = imports.run_import(ctx, _job_of_stored_file(ctx, path).id)
    assert job.status == JobStatus.FAILED and "文件已损坏" in job.message
