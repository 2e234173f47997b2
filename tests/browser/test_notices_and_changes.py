"""Playwright in Debian's Chromium: a county admin writes a notice (rich text with a script that the
save removes), uploads its cover and publishes it, and the worker reads it through the API; a worker's
info change runs 变更初核 and 变更复核 through the pages by two reviewers and is applied."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.services.mutual_aid import info_changes
from models.mutual_aid import InfoChangeRequest, InfoChangeStatus, InsuredPerson
from models.notices import Article
from tests.browser.pages import assert_clean, choose_in_select2, confirm_flow_step, flashes, login, submit
from tests.factories import county, make_user
from tests.mutual_aid.conftest import finance, office, office_staff, plan, unit_and_handler  # noqa: F401
from tests.mutual_aid.worker_fixtures import bind, covered, png, reviewer, unique_phone  # noqa: F401


def test_a_county_admin_writes_uploads_and_publishes_a_notice(live_server, page, ctx, covered, tmp_path):
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/articleview/add")
    page.select_option("select[name=kind]", label="公告通知")
    page.fill("input[name=title]", "关于2026年度职工住院医疗互助补助申请的通知")
    choose_in_select2(page, "org", county(ctx, 0).name)
    page.fill("textarea[name=body]", "<p>请参保职工通过职工客户端申请补助。</p><script>alert(1)</script>")
    submit(page, "form button[type=submit], form input[type=submit]")
    assert_clean(page)
    article = ctx.scalar(select(Article).where(Article.title == "关于2026年度职工住院医疗互助补助申请的通知"))
    assert article is not None and "script" not in article.body
    page.goto(f"{live_server}/articleview/show/{article.id}")
    cover = Path(tmp_path / "封面.png")
    cover.write_bytes(png())
    page.set_input_files("#upload-form input[type=file]", str(cover))
    submit(page, "#upload-form button[type=submit]")
    assert "封面已上传" in " ".join(flashes(page, "success"))
    confirm_flow_step(page, "发布")
    assert any("「发布」已完成 1 条" in f for f in flashes(page, "success"))
    assert_clean(page)
    page.goto(f"{live_server}/articleview/show/{article.id}")
    assert "已发布" in page.inner_text("body") and "请参保职工通过职工客户端申请补助。" in page.inner_text("#article-body")
    page.screenshot(path="/tmp/h3-notice-show.png", full_page=True)

    worker = bind(ctx, covered[0])
    api = page.context.request
    jwt = api.post(f"{live_server}/api/v1/security/login", data={
        "username": worker.username, "password": "Union@2026demo", "provider": "db", "refresh": False}).json()
    listed = api.get(f"{live_server}/api/v1/articles/?kind=公告通知",
                     headers={"Authorization": f"Bearer {jwt['access_token']}"}).json()["result"]
    assert article.id in [a["id"] for a in listed]


def test_two_reviewers_pass_an_info_change_through_the_pages(live_server, page, ctx, covered, reviewer):
    worker = bind(ctx, covered[1])
    new_phone = unique_phone()
    row = info_changes.create_change(ctx, worker, {"phone": new_phone}, evidence=[("凭证.png", png())])
    second = make_user(ctx, "业务审核员", county(ctx, 0))

    login(page, live_server, reviewer.username)
    page.goto(f"{live_server}/infochangefirstreviewview/list/")
    assert row.number in page.inner_text("body") and "手机号" in page.inner_text("body")
    page.click(f"a[href*='/infochangefirstreviewview/show/{row.id}']")
    assert "变更前" in page.inner_text("#change-rows")
    page.screenshot(path="/tmp/h3-change-first.png", full_page=True)
    submit(page, "#step-approve_first button[type=submit]")
    assert any("「初核通过」已完成" in f for f in flashes(page, "success"))
    assert_clean(page)

    login(page, live_server, second.username)
    page.goto(f"{live_server}/infochangesecondreviewview/list/")
    page.click(f"a[href*='/infochangesecondreviewview/show/{row.id}']")
    submit(page, "#step-approve_second button[type=submit]")
    assert any("「复核通过」已完成" in f for f in flashes(page, "success"))
    assert_clean(page)
    ctx.expire_all()
    assert ctx.get(InfoChangeRequest, row.id).status == InfoChangeStatus.DONE
    assert ctx.get(InsuredPerson, covered[1].id).mobile == new_phone
