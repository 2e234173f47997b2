"""Each import kind's own grant, on top of the job pages' 导入: a role that may import members but not
the kind is refused (Chinese 403, no job, no stored upload) on the upload and the template; a role
holding the grant imports it."""
from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from app.storage import store
from models.imports import DataJob
from models.recuperation import Product
from tests.factories import base_of, county, make_member, make_xlsx

from ..test_error_pages import assert_error_page

PRODUCT_HEADER = ["*基地名称", "*所在区县", "*产品类别", "*产品名称", "*职工价", "*团队价", "*每日限量"]
FRONTLINE_HEADER = ["*年度", "*身份证号", "*姓名", "备注"]


def _post(client, kind, path, name):
    with open(path, "rb") as fh:
        return client.post("/datajobview/upload", data={"kind": kind, "file": (fh, name)},
                           content_type="multipart/form-data")


def _jobs(ctx):
    return ctx.scalar(select(func.count(DataJob.id)))


def _uploads(app):
    with app.app_context():
        return len(list(store().list("uploads")))


def _files(ctx, tmp_path):
    home = county(ctx)
    member = make_member(ctx, base_of(ctx, home, 0))
    return {
        "recup_products": make_xlsx(tmp_path / "产品.xlsx", [
            PRODUCT_HEADER, ["授权测试基地", home.name, "住宿", "授权测试标间", "268", "300", "10"]],
            sheet="疗休养基地产品导入表"),
        "recup_frontline": make_xlsx(tmp_path / "名单.xlsx", [
            FRONTLINE_HEADER, ["2025", member.id_number, member.name, ""]], sheet="一线职工疗休养名单导入表"),
        "recup_consumption": make_xlsx(tmp_path / "流水.xlsx", [["*身份证号"], [member.id_number]],
                                       sheet="疗休养消费流水导入表"),
    }, member


@pytest.mark.parametrize("kind", ["recup_products", "recup_frontline", "recup_consumption"])
def test_upload_without_the_kinds_grant_is_403_and_keeps_nothing(app, client_as, ctx, tmp_path, kind):
    files, _member = _files(ctx, tmp_path)
    clerk = client_as("base_admin")          # may import members (DataJobView 导入), not this kind
    jobs_before, uploads_before = _jobs(ctx), _uploads(app)
    assert_error_page(_post(clerk, kind, files[kind], "上传.xlsx"), 403, "无权访问", user="base_admin")
    assert_error_page(clerk.get(f"/datajobview/upload?kind={kind}"), 403, "无权访问", user="base_admin")
    assert_error_page(clerk.get(f"/datajobview/template/{kind}"), 403, "无权访问", user="base_admin")
    assert (_jobs(ctx), _uploads(app)) == (jobs_before, uploads_before)
    assert ctx.scalar(select(DataJob.id).where(DataJob.kind == kind, DataJob.file_name == "上传.xlsx")) is None
    # the member import stays his
    assert clerk.get("/datajobview/template/members").status_code == 200


def test_granted_federation_imports_products_and_the_roster(client_as, ctx, tmp_path):
    files, member = _files(ctx, tmp_path)
    admin = client_as("county_admin")
    for kind in ("recup_products", "recup_frontline"):
        template = admin.get(f"/datajobview/template/{kind}")
        assert template.status_code == 200
        assert CalamineWorkbook.from_filelike(io.BytesIO(template.data)).get_sheet_by_index(0).to_python()
        response = _post(admin, kind, files[kind], f"{kind}.xlsx")
        assert response.status_code == 302 and "/datajobview/show/" in response.headers["Location"]
        job = ctx.get(DataJob, int(response.headers["Location"].rsplit("/", 1)[1]))
        ctx.refresh(job)
        assert (job.kind, job.created_rows, job.error_rows) == (kind, 1, 0), job.message
    assert ctx.scalar(select(Product).where(Product.name == "授权测试标间")) is not None


def test_card_bank_result_template_needs_the_bank_grant(client_as):
    # 银行制卡结果 is the county's step (CardBatchView 制卡/bank); the base union only applies
    assert_error_page(client_as("base_admin").get("/datajobview/template/card_bank_result"), 403, "无权访问",
                      user="base_admin")
    assert client_as("base_admin").get("/datajobview/template/card_application").status_code == 200
    assert client_as("county_admin").get("/datajobview/template/card_bank_result").status_code == 200


def test_bank_return_file_is_finances_not_the_union_admins(client_as, ctx, tmp_path):
    path = make_xlsx(tmp_path / "回盘.xlsx", [["*案件编号"], ["X1"]], sheet="银行回盘")
    before = _jobs(ctx)
    admin = client_as("county_admin")
    assert_error_page(_post(admin, "bank_return", path, "回盘.xlsx"), 403, "无权访问", user="county_admin")
    assert_error_page(admin.get("/datajobview/template/bank_return"), 403, "无权访问", user="county_admin")
    assert _jobs(ctx) == before
