"""A county clerk finds an import interrupted by a database fault, reads what was saved and what
to do, and continues it with 重新执行."""
from sqlalchemy import func, select
from sqlalchemy.exc import ProgrammingError

from app.services import imports
from models.imports import DataJob, JobStatus
from models.members import Member
from tests.browser.pages import assert_clean, flashes, login
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row, submit_member_file


def test_clerk_continues_an_interrupted_import(live_server, page, ctx, tmp_path, monkeypatch):
    org = base_of(ctx, county(ctx, 0), 1)
    rows = [member_row(org) for _ in range(12)]
    job = submit_member_file(ctx, make_xlsx(tmp_path / "中断的导入.xlsx", [MEMBER_HEADER, *rows]))
    real, calls = imports._write, []

    def write(*args):
        if calls:
            raise ProgrammingError("INSERT", {}, Exception("relation does not exist"))
        calls.append(1)
        real(*args)
    monkeypatch.setattr(imports, "_write", write)
    imports.run_import(ctx, job.id, batch_size=5)
    monkeypatch.undo()

    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/datajobview/show/{job.id}")
    status, message = page.inner_text("#job-status"), page.inner_text("#job-progress .alert-danger")
    assert status == "已中断" and "已保存 5 行" in message and "重新执行" in message
    page.screenshot(path="/tmp/h7-job-interrupted.png", full_page=True)
    page.locator("a", has_text="重新执行").first.click()
    page.wait_for_selector("#modal-confirm-ok", state="visible")
    assert "已保存的数据不会重复导入" in page.inner_text("#modal-confirm")
    page.screenshot(path="/tmp/h7-job-confirm.png", full_page=True)
    shown = f"{live_server}/datajobview/show/{job.id}"
    with page.expect_navigation(url=shown):  # not the modal link's own "#"
        page.click("#modal-confirm-ok")
    assert "已重新提交" in " ".join(flashes(page, "success")), page.inner_text("body")[:600]
    assert page.inner_text("#job-status") == "执行成功"
    assert_clean(page)
    page.screenshot(path="/tmp/h7-job-retried.png", full_page=True)
    page.goto(f"{live_server}/datajobview/list/")
    listed = page.locator("tr", has_text="中断的导入.xlsx").inner_text()
    assert "执行成功" in listed and "已中断" not in listed
    assert_clean(page)
    page.screenshot(path="/tmp/h7-job-list.png", full_page=True)
    ctx.expire_all()
    assert ctx.get(DataJob, job.id).status == JobStatus.SUCCEEDED
    assert ctx.scalar(select(func.count(Member.id)).where(Member.id_number.in_([r[2] for r in rows]))) == 12
