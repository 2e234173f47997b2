"""§2.2 导出结果: raw for its submitter and `unmask` holders, masked for whoever else sees the job;
§1.9 the job list has 导出结果 per row."""
import io
import re

from python_calamine import CalamineWorkbook

from app.masking import mask_id_number, mask_phone
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row


def _cells(response):
    assert response.status_code == 200, response.status_code
    return CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_index(0).to_python()


def _job_with_rejections(client_as, ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    bad = member_row(own, phone="13912345678", migrant_worker="也许")
    path = make_xlsx(tmp_path / "r.xlsx", [MEMBER_HEADER, member_row(own), bad])
    with open(path, "rb") as fh:
        response = client_as("county_admin").post("/datajobview/upload", content_type="multipart/form-data",
                                                  data={"kind": "members", "file": (fh, "结果.xlsx")})
    return int(response.headers["Location"].rsplit("/", 1)[1]), bad


def test_submitter_gets_raw_auditor_gets_masked(client_as, ctx, tmp_path):
    job_id, bad = _job_with_rejections(client_as, ctx, tmp_path)
    url = f"/datajobview/file/{job_id}/result"
    raw = _cells(client_as("county_admin").get(url))
    assert (raw[1][2], raw[1][5]) == (bad[2], "13912345678")
    auditor = client_as("auditor")
    masked = _cells(auditor.get(url))
    assert masked[1][2] == mask_id_number(bad[2]) and masked[1][5] == mask_phone("13912345678")
    assert masked[1][0] == bad[0] and "是否农民工" in masked[1][-1]  # the rest as submitted, reasons kept
    assert bad[2] not in str(masked) and "13912345678" not in str(masked)


def test_job_list_has_a_result_button_per_row(client_as, ctx, tmp_path):
    job_id, _bad = _job_with_rejections(client_as, ctx, tmp_path)
    for username in ("county_admin", "auditor"):
        client = client_as(username)
        listing = client.get("/datajobview/list/")
        html = client.get(listing.headers["Location"]).get_data(as_text=True)
        links = re.findall(r'href="(/datajobview/file/(\d+)/result)"', html)
        assert (f"/datajobview/file/{job_id}/result", str(job_id)) in links, username
        assert "导出结果" in html
        assert client.get(f"/datajobview/file/{job_id}/result").status_code == 200
    # another county sees neither the row nor the file
    other = client_as("county2_admin")
    listing = other.get("/datajobview/list/")
    assert f"/datajobview/file/{job_id}/result" not in other.get(listing.headers["Location"]).get_data(as_text=True)
    assert other.get(f"/datajobview/file/{job_id}/result").status_code == 404


def test_unmask_holder_gets_raw_of_another_s_import(client_as, ctx, tmp_path):
    own = base_of(ctx, county(ctx), 0)
    bad = member_row(own, org="", phone="13812340000", migrant_worker="也许")
    path = make_xlsx(tmp_path / "b.xlsx", [MEMBER_HEADER, bad])
    with open(path, "rb") as fh:
        response = client_as("base_admin").post("/datajobview/upload", content_type="multipart/form-data",
                                                data={"kind": "members", "file": (fh, "基层.xlsx")})
    url = f"/datajobview/file/{int(response.headers['Location'].rsplit('/', 1)[1])}/result"
    assert _cells(client_as("county_admin").get(url))[1][2] == bad[2]  # 区县管理员 holds MemberView unmask
    assert _cells(client_as("auditor").get(url))[1][2] == mask_id_number(bad[2])


def test_an_export_file_of_another_user_is_refused_without_unmask(client_as, ctx, tmp_path):
    from sqlalchemy import select

    from app.storage import store
    from models.imports import DataJob, JobDirection, JobStatus
    from models.security import AppUser

    admin = ctx.scalar(select(AppUser).where(AppUser.username == "county_admin"))
    stored = store().put("exports", make_xlsx(tmp_path / "e.xlsx", [["证件号码"], ["110101199003070028"]]) and
                         (tmp_path / "e.xlsx"))
    job = DataJob(direction=JobDirection.EXPORT, kind="export:MemberView", kind_label="会员导出", file_name="会员.xlsx",
                  status=JobStatus.SUCCEEDED, params={"view": "MemberView", "args": {}}, org_id=admin.org_id,
                  submitted_by_id=admin.id, result_name=stored)
    ctx.add(job)
    ctx.commit()
    url = f"/datajobview/file/{job.id}/result"
    assert client_as("county_admin").get(url).status_code == 200
    auditor = client_as("auditor")
    assert auditor.get(url).status_code == 403
    assert url not in auditor.get(f"/datajobview/show/{job.id}").get_data(as_text=True)
