"""Member import in Chromium (issue 8 §1.4, §2.2, §1.9): a county admin uploads a file naming only
the 单位 through the 导入 button and form, sees the counts in Chinese and downloads 导出结果; the
auditor downloads the same result from the job list, masked."""
import re
import uuid

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.masking import mask_id_number, mask_phone
from models.members import Member
from tests.browser.pages import assert_clean, choose_file, login
from tests.factories import MEMBER_HEADER, base_of, county, make_unit, make_xlsx, member_row


def _rows_of(download, tmp_path, name):
    path = tmp_path / name
    download.save_as(path)
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_county_admin_imports_units_only_and_the_auditor_gets_a_masked_result(live_server, browser, ctx, tmp_path):
    union = base_of(ctx, county(ctx), 2)
    unit = make_unit(ctx, union, name=f"浏览器车间{uuid.uuid4().hex[:4]}")
    good = [member_row(union, org="", unit=unit.name) for _ in range(3)]
    bad = member_row(union, org="", unit=unit.name, phone="13912345678", migrant_worker="不知道")
    path = make_xlsx(tmp_path / "只填单位的采集表.xlsx", [MEMBER_HEADER, *good, bad])

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/memberview/list/")
    page.click("#import-link")
    page.wait_for_url(re.compile(r"/datajobview/upload"))
    choose_file(page, path)
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/datajobview/show/\d+"))
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.wait_for_function("document.getElementById('job-status').textContent.trim() === '部分成功'")
    counts = page.inner_text("#job-counts")
    assert "成功 3" in counts and "新增 3" in counts and "失败 1" in counts, counts
    assert "请填写所属基层工会" not in page.content()
    page.screenshot(path="/tmp/imports-job.png", full_page=True)
    assert_clean(page)
    with page.expect_download() as info:
        page.click("#result-link")
    raw = _rows_of(info.value, tmp_path, "raw.xlsx")
    assert (raw[1][2], raw[1][5]) == (bad[2], "13912345678") and "是否农民工" in raw[1][-1]
    members = ctx.scalars(select(Member).where(Member.id_number.in_([r[2] for r in good]))).all()
    assert {(m.org_id, m.unit_id) for m in members} == {(union.id, unit.id)}
    context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    login(page, live_server, "auditor")
    page.goto(f"{live_server}/datajobview/list/")
    row_button = page.locator(f'a.job-result[href="/datajobview/file/{job_id}/result"]')
    assert row_button.inner_text().strip() == "导出结果"
    page.screenshot(path="/tmp/imports-list-auditor.png", full_page=True)
    assert_clean(page)
    with page.expect_download() as info:
        row_button.click()
    masked = _rows_of(info.value, tmp_path, "masked.xlsx")
    assert (masked[1][2], masked[1][5]) == (mask_id_number(bad[2]), mask_phone("13912345678"))
    assert bad[2] not in str(masked)
    assert page.locator("#upload-form").count() == 0
    context.close()
