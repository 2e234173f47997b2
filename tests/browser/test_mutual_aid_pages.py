"""Playwright in Debian's Chromium: every mutual-aid page as its clerk opens it (seeded demo data),
in Chinese with no raw values; the office adds a benefit-rule version; finance opens a period."""
import pytest
from sqlalchemy import select

from models.mutual_aid import Enrollment, EnrollmentStatus, ProtectionPlan
from tests.browser.pages import ENGLISH_OR_RAW, assert_clean, flashes, login, submit

PAGES = [
    ("office", "/mutual-aid/", "#pending-table", "desk"),
    ("office", "/memberunitview/list/", "div.panel", "pool"),
    ("office", "/enrollmentview/list/", "div.panel", "enrollments"),
    ("office", "/protectionplanview/list/", "div.panel", "plans"),
    ("finance", "/settlement/", "#period-table", "settlement"),
    ("liuhuzhu", "/letters/?tab=unprinted", "#letter-table", "letters"),
    ("liuhuzhu", "/enrollmentview/list/", "div.panel", "unit-enrollments"),
]


@pytest.mark.parametrize("user, path, selector, name", PAGES, ids=[p[3] for p in PAGES])
def test_the_page_reads_in_chinese(live_server, page, user, path, selector, name):
    login(page, live_server, user)
    page.goto(f"{live_server}{path}")
    page.wait_for_selector(selector)
    page.screenshot(path=f"/tmp/h6-page-{name}.png", full_page=True)
    assert_clean(page)


def test_the_office_adds_a_benefit_rule_version(live_server, page, ctx):
    plan = ctx.scalar(select(ProtectionPlan).where(ProtectionPlan.code == "ZYYL2026"))
    login(page, live_server, "office")
    page.goto(f"{live_server}/protectionplanview/show/{plan.id}")
    page.fill("#rule", '{"type": "daily_allowance", "per_day": "50", "max_days": 180}')
    page.fill("input[name=effective_from]", "2027-01-01")
    page.fill("input[name=note]", "住院津贴")
    submit(page, "#rule-form button[type=submit]")
    assert "已新增给付规则第2版" in " ".join(flashes(page, "success"))
    assert "住院津贴（按天）" in page.inner_text("#benefit-rules")
    page.screenshot(path="/tmp/h6-page-plan.png", full_page=True)
    assert_clean(page)


def test_the_unit_sees_its_draft_persons_and_the_forgot_password_page(live_server, page, ctx):
    draft = ctx.scalar(select(Enrollment).where(Enrollment.status == EnrollmentStatus.DRAFT)
                       .order_by(Enrollment.id).limit(1))
    login(page, live_server, "liuhuzhu")
    page.goto(f"{live_server}/enrollmentview/persons/{draft.id}")
    page.wait_for_selector("#person-table")
    assert page.inner_text("#person-total") == "5"
    page.screenshot(path="/tmp/h6-page-persons.png", full_page=True)
    assert_clean(page)
    page.context.clear_cookies()
    page.goto(f"{live_server}/account/forgot-password")
    page.fill("#phone", "123")
    submit(page, "#send-code")
    assert "手机号应为11位数字" in " ".join(flashes(page, "danger"))
    page.screenshot(path="/tmp/h6-page-forgot.png", full_page=True)


def test_a_plan_that_asks_for_an_attachment_holds_the_units_submission(live_server, page, ctx):
    draft = ctx.scalar(select(Enrollment).where(Enrollment.status == EnrollmentStatus.DRAFT)
                       .order_by(Enrollment.id).limit(1))
    plan = draft.plans[0].plan
    # the office ticks 参保需上传附件 on the plan's edit form
    login(page, live_server, "office")
    page.goto(f"{live_server}/protectionplanview/edit/{plan.id}")
    assert not page.is_checked("input[name=attachment_required]")
    submit(page, "form button[type=submit]")  # an unticked box is a valid answer, not a missing one
    assert flashes(page, "success") and not flashes(page, "danger")
    page.goto(f"{live_server}/protectionplanview/edit/{plan.id}")
    page.check("input[name=attachment_required]")
    page.fill("input[name=attachment_note]", "加盖公章的职工花名册")
    page.screenshot(path="/tmp/plan-attachment-form.png", full_page=True)
    submit(page, "form button[type=submit]")
    assert flashes(page, "success") and not flashes(page, "danger")
    assert_clean(page)
    # the unit sees what to upload, and 完成 is refused in Chinese until it has
    page.context.clear_cookies()
    login(page, live_server, "liuhuzhu")
    page.goto(f"{live_server}/enrollmentview/show/{draft.id}")
    assert f"「{plan.name}」需上传参保附件：加盖公章的职工花名册" in page.inner_text("#files")
    page.on("dialog", lambda dialog: dialog.accept())
    submit(page, "#submit-enrollment")
    assert any("需上传参保附件（加盖公章的职工花名册）" in f for f in flashes(page, "danger"))
    page.screenshot(path="/tmp/plan-attachment-refused.png", full_page=True)
    assert not ENGLISH_OR_RAW.findall(page.locator("body").inner_text())  # the refusal is the page's one red line
    ctx.expire_all()
    assert ctx.get(Enrollment, draft.id).status == EnrollmentStatus.DRAFT
