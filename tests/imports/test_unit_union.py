"""§1.4 A county admin's file naming only the 单位 (seed 003's 采集表): the union comes from the unit."""
import io
import uuid

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.services import imports
from app.services.member_import import MemberImportContext, parse_row
from models.imports import DataJob, JobError, JobStatus
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


def _name(prefix="车间"):
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _upload(client, path, name="只填单位.xlsx"):
    with open(path, "rb") as fh:
        return client.post("/datajobview/upload", data={"kind": "members", "file": (fh, name)},
                           content_type="multipart/form-data")


def test_parser_derives_the_union_of_a_unique_unit_and_asks_when_ambiguous():
    ctx = MemberImportContext(unions={"甲工会": 1, "乙工会": 2}, districts={}, union_names={1: "甲工会", 2: "乙工会"},
                              units={(1, "一车间"): 10, (2, "一车间"): 20, (2, "二车间"): 21, (9, "外单位"): 90})
    cells = dict(zip(["name", "id_type", "id_number", "gender", "birth_date", "phone", "migrant_worker",
                      "position", "join_date", "org", "unit", "status", "remark"],
                     member_row(type("U", (), {"name": ""}), unit="二车间")), _row_no=2)
    record, errors = parse_row(cells, ctx)
    assert errors == {} and (record["org_id"], record["unit_id"]) == (2, 21)
    _r, errors = parse_row({**cells, "unit": "一车间", "_row_no": 3, "id_number": new_id_number()}, ctx)
    assert errors == {"org": "单位「一车间」在您的范围内有 2 个，请填写所属基层工会"}
    # a unit of an org outside the base unions in scope reads as not found
    _r, errors = parse_row({**cells, "unit": "外单位", "_row_no": 4, "id_number": new_id_number()}, ctx)
    assert set(errors) == {"unit"} and "不存在或不在您的管辖范围内" in errors["unit"]
    # naming the union still settles an ambiguous unit
    record, errors = parse_row({**cells, "unit": "一车间", "org": "乙工会", "_row_no": 5,
                                "id_number": new_id_number()}, ctx)
    assert errors == {} and record["unit_id"] == 20


def test_county_admin_import_naming_only_units(ctx, tmp_path):
    c = county(ctx)
    first, second, third = base_of(ctx, c, 0), base_of(ctx, c, 1), base_of(ctx, c, 2)
    unique, shared = _name("唯一车间"), _name("同名车间")
    unit = make_unit(ctx, second, name=unique)
    make_unit(ctx, first, name=shared)
    make_unit(ctx, third, name=shared)
    foreign = make_unit(ctx, base_of(ctx, county(ctx, 1), 0), name=_name("外县车间"))
    good = [member_row(second, org="", unit=unique) for _ in range(3)]
    ambiguous = member_row(first, org="", unit=shared)
    outside = member_row(first, org="", unit=foreign.name)
    path = make_xlsx(tmp_path / "units.xlsx", [MEMBER_HEADER, *good, ambiguous, outside])
    job = imports.run_import(ctx, submit_member_file(ctx, path, "county_admin").id)
    assert (job.status, job.created_rows, job.error_rows) == (JobStatus.PARTIAL, 3, 2)
    members = ctx.scalars(select(Member).where(Member.id_number.in_([r[2] for r in good]))).all()
    assert {(m.org_id, m.unit_id) for m in members} == {(second.id, unit.id)}
    reasons = {e.row_no: e.reasons for e in ctx.scalars(select(JobError).where(JobError.job_id == job.id))}
    assert reasons[5] == {"org": f"单位「{shared}」在您的范围内有 2 个，请填写所属基层工会"}
    assert "不存在或不在您的管辖范围内" in reasons[6]["unit"]
    foreign_union = base_of(ctx, county(ctx, 1), 0).name
    assert foreign_union not in str(reasons[6])  # never leaks where the unit really is
    assert "请填写所属基层工会" not in str(reasons[6])


def test_through_the_pages_per_role(client_as, ctx, tmp_path):
    c = county(ctx)
    second = base_of(ctx, c, 1)
    unique = _name("页面车间")
    make_unit(ctx, second, name=unique)
    rows = [member_row(second, org="", unit=unique), member_row(second, org="", unit=unique, phone="12")]
    path = make_xlsx(tmp_path / "p.xlsx", [MEMBER_HEADER, *rows])
    client = client_as("county_admin")
    response = _upload(client, path)
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    html = client.get(f"/datajobview/show/{job_id}").get_data(as_text=True)
    assert "部分成功" in html and "请填写所属基层工会" not in html
    assert ctx.scalar(select(Member).where(Member.id_number == rows[0][2])).org_id == second.id
    result = client.get(f"/datajobview/file/{job_id}/result")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(result.data)).get_sheet_by_index(0).to_python()
    assert sheet[1][2] == rows[1][2] and "手机号" in sheet[1][-1]  # the submitter: raw
    # refused side: another county neither sees the job nor the file; the auditor cannot upload
    other = client_as("county2_admin")
    assert other.get(f"/datajobview/show/{job_id}").status_code == 404
    assert other.get(f"/datajobview/file/{job_id}/result").status_code == 404
    before = ctx.query(DataJob).count()
    assert _upload(client_as("auditor"), path).status_code == 403
    assert ctx.query(DataJob).count() == before


def test_base_admin_cannot_reach_a_unit_of_a_sibling_union(ctx, tmp_path):
    c = county(ctx)
    sibling = base_of(ctx, c, 3)
    unit = make_unit(ctx, sibling, name=_name("兄弟车间"))
    row = member_row(base_of(ctx, c, 0), org="", unit=unit.name)
    job = imports.run_import(ctx, submit_member_file(ctx, make_xlsx(tmp_path / "s.xlsx", [MEMBER_HEADER, row]),
                                                      "base_admin").id)
    assert job.status == JobStatus.FAILED
    error = ctx.scalar(select(JobError).where(JobError.job_id == job.id))
    assert sibling.name not in str(error.reasons) and "unit" in error.reasons
    assert ctx.scalar(select(Member).where(Member.id_number == row[2])) is None
