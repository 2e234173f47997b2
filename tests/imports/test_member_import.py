"""The member import end to end through the service (eager), then the result file."""
import json

from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from app.services import imports
from app.services.member_import import MemberImportContext, parse_row
from app.storage import store
from models.audit import AuditLog
from models.imports import DataJob, JobStatus
from models.members import Member
from tests.factories import (
    MEMBER_HEADER,
    base_of,
    county,
    make_unit,
    make_xlsx,
    member_row,
    new_id_number,
    submit_member_file,
)


def _ctx(org):
    return MemberImportContext(unions={org.name: org.id}, districts={org.id: "101"}, union_names={org.id: org.name},
                               units={(org.id, "一车间"): 7})


class _Org:
    id, name = 5, "测试基层工会"


def _cells(**over):
    cells = dict(zip(["name", "id_type", "id_number", "gender", "birth_date", "phone", "migrant_worker", "position",
                      "join_date", "org", "unit", "status", "remark"], member_row(_Org, **over)))
    cells["_row_no"] = 2
    return cells


def test_parse_row_derives_and_maps_labels():
    record, errors = parse_row(_cells(id_number="11010519491231002X", unit="一车间", migrant_worker="是"), _ctx(_Org))
    assert errors == {}
    assert (record["gender"], str(record["birth_date"]), record["unit_id"], record["migrant_worker"]) == \
        ("female", "1949-12-31", 7, True)


def test_parse_row_gives_a_reason_per_failed_cell():
    _record, errors = parse_row(_cells(id_number="110105194912310021", phone="1380013", gender="男",
                                       unit="不存在车间", status="在职", name="Tom"), _ctx(_Org))
    assert set(errors) == {"id_number", "phone", "unit", "status", "name"}
    assert "校验位" in errors["id_number"] and "11位" in errors["phone"] and "未在" in errors["unit"]


def test_parse_row_gender_contradicting_id_and_duplicate_in_file():
    ctx = _ctx(_Org)
    _r, errors = parse_row(_cells(id_number="11010519491231002X", gender="男"), ctx)
    assert "性别与身份证号不符" in errors["gender"]
    number = new_id_number()
    parse_row({**_cells(id_number=number), "_row_no": 2}, ctx)
    _r, errors = parse_row({**_cells(id_number=number), "_row_no": 9}, ctx)
    assert errors["id_number"] == "与本文件第2行的证件号码重复"


def test_parse_row_id_stored_as_number_is_named():
    _r, errors = parse_row({**_cells(), "id_number": 1.10105194912310e17}, _ctx(_Org))
    assert "存成了数字" in errors["id_number"]


def _submit(ctx, path, username="county_admin"):
    return imports.run_import(ctx, submit_member_file(ctx, path, username).id, batch_size=3)


def test_import_commits_valid_rows_and_returns_rejected_ones(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 1)
    unit = make_unit(ctx, org, name="导入测试车间")
    good = [member_row(org, unit=unit.name) for _ in range(5)]
    bad = member_row(org, id_number="110105194912310021", phone="12345")
    excel_number = member_row(org)
    excel_number[2] = 1.10105194912310e17
    path = make_xlsx(tmp_path / "会员.xlsx", [MEMBER_HEADER, *good[:2], bad, *good[2:], excel_number])
    job = _submit(ctx, path)
    assert (job.status, job.ok_rows, job.created_rows, job.error_rows) == (JobStatus.PARTIAL, 5, 5, 2)
    numbers = [r[2] for r in good]
    assert ctx.scalar(select(func.count(Member.id)).where(Member.id_number.in_(numbers))) == 5
    member = ctx.scalar(select(Member).where(Member.id_number == numbers[0]))
    assert member.unit_id == unit.id and len(member.member_no) == 10
    kind, stored, name = imports.job_file(job, "result")
    with store().local_copy(kind, stored) as path:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0][:3] == ["*姓名", "证件类型", "*证件号码"] and rows[0][-1] == "错误原因"
    assert rows[1][2] == "110105194912310021" and "第4行" in rows[1][-1] and "校验位" in rows[1][-1]
    assert "手机号" in rows[1][-1] and "存成了数字" in rows[2][-1]
    assert name == "会员_导出结果.xlsx"


def test_reimport_creates_nothing_twice_and_audits_changes(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 2)
    rows = [member_row(org) for _ in range(4)]
    path = make_xlsx(tmp_path / "a.xlsx", [MEMBER_HEADER, *rows])
    first = _submit(ctx, path)
    again = _submit(ctx, path)
    assert (first.created_rows, again.created_rows, again.updated_rows, again.status) == (4, 0, 0, JobStatus.SUCCEEDED)
    rows[1][5], rows[1][7] = "13912345678", "车间主任"
    changed = _submit(ctx, make_xlsx(tmp_path / "b.xlsx", [MEMBER_HEADER, *rows]))
    assert (changed.created_rows, changed.updated_rows) == (0, 1)
    member = ctx.scalar(select(Member).where(Member.id_number == rows[1][2]))
    assert (member.phone, member.position) == ("13912345678", "车间主任")
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "update", AuditLog.target_id == str(member.id)))
    detail = json.loads(row.detail)
    assert set(detail) == {"phone", "position"} and detail["phone"][1] == "139****5678"
    assert row.username == "county_admin"


def test_member_of_another_union_is_not_taken_over(ctx, tmp_path):
    theirs = base_of(ctx, county(ctx, 1), 0)
    from tests.factories import make_member

    existing = make_member(ctx, theirs)
    mine = base_of(ctx, county(ctx, 0), 0)
    job = _submit(ctx, make_xlsx(tmp_path / "c.xlsx", [MEMBER_HEADER, member_row(mine, id_number=existing.id_number)]))
    assert job.status == JobStatus.FAILED and job.error_rows == 1
    ctx.expire_all()
    assert ctx.get(Member, existing.id).org_id == theirs.id


def test_foreign_union_name_is_rejected(ctx, tmp_path):
    foreign = base_of(ctx, county(ctx, 1), 0)
    job = _submit(ctx, make_xlsx(tmp_path / "d.xlsx", [MEMBER_HEADER, member_row(foreign)]))
    assert job.error_rows == 1 and job.ok_rows == 0


def test_missing_required_column_fails_with_message(ctx, tmp_path):
    job = _submit(ctx, make_xlsx(tmp_path / "e.xlsx", [["姓名", "手机号"], ["张三", "13800138000"]]))
    assert job.status == JobStatus.FAILED and "缺少必填列" in job.message and "证件号码" in job.message


def test_run_twice_is_harmless_and_resume_skips_committed_rows(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 3)
    rows = [member_row(org) for _ in range(7)]
    job = submit_member_file(ctx, make_xlsx(tmp_path / "f.xlsx", [MEMBER_HEADER, *rows]))
    job.status, job.processed_rows = JobStatus.RUNNING, 3  # as if a crash came after the first batch
    ctx.commit()
    job = imports.run_import(ctx, job.id, batch_size=3)
    assert (job.processed_rows, job.created_rows) == (7, 4)
    assert imports.run_import(ctx, job.id).finished_at == job.finished_at
    assert ctx.scalar(select(func.count(Member.id)).where(Member.id_number.in_([r[2] for r in rows[3:]]))) == 4
    assert ctx.scalar(select(func.count(DataJob.id)).where(DataJob.id == job.id)) == 1


def test_imported_rows_read_back_like_form_rows(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 0)
    row = member_row(org, birth_date="")
    _submit(ctx, make_xlsx(tmp_path / "g.xlsx", [MEMBER_HEADER, row]))
    ctx.expire_all()
    member = ctx.scalar(select(Member).where(Member.id_number == row[2]))
    assert member.created_at.tzinfo is not None and member.join_date.isoformat() == "2020-01-02"
    assert member.migrant_worker is False and member.cert_status == "unverified"


def test_huge_sheets_are_parsed_in_a_forked_reader_with_the_same_outcome(ctx, tmp_path, monkeypatch):
    from app.xlsx import reader

    monkeypatch.setattr(reader, "STREAM_ABOVE_BYTES", 0)  # every file counts as huge
    org = base_of(ctx, county(ctx), 1)
    rows = [member_row(org) for _ in range(7)]
    duplicate = list(rows[0])
    bad = member_row(org, phone="1")
    job = _submit(ctx, make_xlsx(tmp_path / "huge.xlsx", [MEMBER_HEADER, *rows, duplicate, bad]))
    assert (job.status, job.created_rows, job.error_rows) == (JobStatus.PARTIAL, 7, 2)
    kind, stored, _name = imports.job_file(job, "result")
    with store().local_copy(kind, stored) as result:
        reasons = [r[-1] for r in CalamineWorkbook.from_path(str(result)).get_sheet_by_index(0).to_python()[1:]]
    assert "与本文件第2行的证件号码重复" in reasons[0] and "手机号" in reasons[1]
