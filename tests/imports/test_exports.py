"""List exports: scope, masking, formula neutralization, audit, large exports as jobs."""
import io

from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from models.audit import AuditLog
from models.imports import DataJob, JobStatus
from models.members import Member
from tests.factories import base_of, county, make_member, make_unit


def _rows(data):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_member_export_is_scoped_masked_filtered_and_audited(client_as, ctx):
    mine = make_member(ctx, base_of(ctx, county(ctx, 0)), name="导出甲")
    make_member(ctx, base_of(ctx, county(ctx, 1)), name="导出乙")
    client = client_as("county_admin")
    response = client.get("/memberview/export/?_flt_0_name=导出")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    rows = _rows(response.data)
    assert rows[0][:5] == ["会员编号", "姓名", "性别", "证件类型", "证件号码"]
    assert [r[1] for r in rows[1:]] == ["导出甲"]
    assert rows[1][4] == mine.id_number_masked and rows[1][5] == mine.phone_masked
    assert mine.id_number.encode() not in response.data
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "export").order_by(AuditLog.id.desc()))
    assert row.username == "county_admin" and "1 行" in row.summary and "导出" in row.detail


def test_export_neutralizes_formulas(client_as, ctx):
    make_unit(ctx, base_of(ctx, county(ctx, 0)), name="=HYPERLINK(\"http://evil\",\"点我\")")
    rows = _rows(client_as("county_admin").get("/unitview/export/?_flt_0_name==HYPER").data)
    assert rows[1][0].startswith("'=HYPERLINK")


def test_large_export_becomes_a_job(client_as, ctx, app):
    client = client_as("city_admin")
    app.config["EXPORT_SYNC_MAX_ROWS"] = 10
    try:
        response = client.get("/memberview/export/")
    finally:
        app.config["EXPORT_SYNC_MAX_ROWS"] = 5000
    assert response.status_code == 302 and "/datajobview/show/" in response.headers["Location"]
    job = ctx.get(DataJob, int(response.headers["Location"].rsplit("/", 1)[1]))
    ctx.refresh(job)
    assert job.status == JobStatus.SUCCEEDED and job.direction == "export"
    rows = _rows(client.get(f"/datajobview/file/{job.id}/result").data)
    assert len(rows) - 1 == ctx.scalar(select(func.count(Member.id))) == job.ok_rows
    assert "下载导出文件" in client.get(f"/datajobview/show/{job.id}").get_data(as_text=True)


def test_export_refused_without_permission(client_as):
    assert client_as("sysadmin").get("/memberview/export/").status_code == 403
    assert client_as("reviewer").get("/memberview/export/").status_code == 403
    assert client_as("county_admin").get("/datajobview/export/").status_code == 404


def test_org_and_audit_log_exports(client_as):
    rows = _rows(client_as("county_admin").get("/orgview/export/").data)
    assert rows[0][:2] == ["名称", "层级"] and any(r[1] == "基层工会" for r in rows[1:])
    assert all("上海市总工会" != r[0] for r in rows[1:])  # the city is outside a county's scope
    rows = _rows(client_as("auditadmin").get("/auditlogview/export/?_flt_0_event=login_ok").data)
    assert rows[0][0] == "时间" and {r[2] for r in rows[1:]} == {"登录成功"}
    assert client_as("auditor").get("/auditlogview/export/").status_code == 403
