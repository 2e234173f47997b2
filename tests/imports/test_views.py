"""Imports through the browser client, as each role; refusals from the other side."""
import io
from datetime import datetime

from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from models.base import DISPLAY_TZ
from models.imports import DataJob
from models.members import Member
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row


def _upload(client, path, name="会员采集.xlsx"):
    with open(path, "rb") as fh:
        return client.post("/datajobview/upload", data={"kind": "members", "file": (fh, name)},
                           content_type="multipart/form-data")


def test_base_admin_downloads_template(client_as):
    response = client_as("base_admin").get("/datajobview/template/members")
    assert response.status_code == 200 and response.mimetype.endswith("sheet")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.get_sheet_by_index(0).to_python()[0][2] == "*证件号码"


def test_upload_creates_job_and_shows_progress_and_result(client_as, ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    good, bad = member_row(own, org=""), member_row(own, phone="99")
    client = client_as("base_admin")
    response = _upload(client, make_xlsx(tmp_path / "m.xlsx", [MEMBER_HEADER, good, bad]))
    assert response.status_code == 302 and "/datajobview/show/" in response.headers["Location"]
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    html = client.get(f"/datajobview/show/{job_id}").get_data(as_text=True)
    assert "部分成功" in html and "下载导出结果" in html and 'id="job-bar"' in html
    progress = client.get(f"/datajobview/progress/{job_id}").json
    assert (progress["ok"], progress["errors"], progress["percent"], progress["done"]) == (1, 1, 100, True)
    result = client.get(f"/datajobview/file/{job_id}/result")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(result.data)).get_sheet_by_index(0).to_python()
    assert rows[1][5] == "99" and "手机号" in rows[1][-1]
    assert ctx.scalar(select(Member).where(Member.id_number == good[2])).org_id == own.id
    stored = ctx.get(DataJob, job_id).stored_name
    assert stored != "会员采集.xlsx" and len(stored) == 37


def test_hostile_or_wrong_file_is_refused_without_a_job(client_as, ctx, tmp_path):
    client = client_as("base_admin")
    before = ctx.scalar(select(func.count(DataJob.id)))
    csv = tmp_path / "m.csv"
    csv.write_text("姓名,证件号码\n")
    html = _upload(client, csv, "m.csv").get_data(as_text=True)
    assert "请上传 .xlsx" in html
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    html = _upload(client, fake, "fake.xlsx").get_data(as_text=True)
    assert "不是 Excel 2007+" in html
    assert ctx.scalar(select(func.count(DataJob.id))) == before


def test_upload_over_size_limit_is_refused(client_as, app, tmp_path):
    client = client_as("base_admin")
    app.config["IMPORT_MAX_BYTES"] = 1024
    try:
        path = make_xlsx(tmp_path / "big.xlsx", [MEMBER_HEADER] + [[str(i) * 30] * 13 for i in range(300)])
        html = _upload(client, path).get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_BYTES"] = 20 * 1024 * 1024
    assert "文件过大" in html


def test_task_list_opens_on_today_and_is_scoped(client_as, ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    client = client_as("base_admin")
    _upload(client, make_xlsx(tmp_path / "today.xlsx", [MEMBER_HEADER, member_row(own, org="")]), "今天的任务.xlsx")
    response = client.get("/datajobview/list/")
    assert response.status_code == 302
    today = datetime.now(DISPLAY_TZ).strftime("%Y-%m-%d")
    assert today in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "今天的任务.xlsx" in html
    assert "今天的任务.xlsx" not in client_as("county2_admin").get(response.headers["Location"]).get_data(as_text=True)


def test_foreign_job_and_its_files_answer_404(client_as, ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    response = _upload(client_as("base_admin"), make_xlsx(tmp_path / "x.xlsx", [MEMBER_HEADER, member_row(own, phone="1")]))
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    other = client_as("county2_admin")
    for url in (f"/datajobview/show/{job_id}", f"/datajobview/progress/{job_id}", f"/datajobview/file/{job_id}/result"):
        assert other.get(url).status_code == 404, url
    assert client_as("county_admin").get(f"/datajobview/file/{job_id}/result").status_code == 200


def test_auditor_sees_jobs_but_cannot_upload(client_as, ctx, tmp_path):
    client = client_as("auditor")
    own = base_of(ctx, county(ctx), 0)
    path = make_xlsx(tmp_path / "a.xlsx", [MEMBER_HEADER, member_row(own)])
    assert _upload(client, path).status_code == 403
    assert client.get("/datajobview/template/members").status_code == 403
    assert client.get("/datajobview/list/?_flt_0_status=succeeded").status_code == 200
    assert ctx.scalar(select(Member).where(Member.id_number == member_row(own)[2])) is None
