"""Playwright in Debian's Chromium, one unit's whole story (seed 004): it registers itself with an SMS
code, the office approves, the unit logs in with the one-time password and must change it, enrolls
with a person-list upload and submits, the office passes 初审, the unit enters its invoice, finance
confirms the payment, the unit confirms the list and prints the letter (a PDF with its name)."""
import io
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from models.mutual_aid import Enrollment, MemberUnit
from models.outbox import SmsMessage
from tests.browser.pages import assert_clean, flashes, login, submit
from tests.factories import PERSON_HEADER, county, licence_png, make_xlsx, person_row, unit_fields

SHOTS = "/tmp/h6-{}.png"
NEW_PASSWORD = "Unit#Handler2026"


def shot(page, name):
    page.screenshot(path=SHOTS.format(name), full_page=True)


def last_sms(ctx, phone):
    ctx.expire_all()
    return ctx.scalars(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc())).first()


def test_a_unit_registers_enrolls_and_prints_its_letter(live_server, page, ctx, tmp_path):
    office = county(ctx, 0)
    fields = unit_fields(office, name="浏览器互助旅程科技有限公司", contact_name="周旅程")
    licence = tmp_path / "营业执照.png"
    licence.write_bytes(licence_png())

    # 1. the public registration page, the code read from the outbox table
    page.goto(f"{live_server}/register/")
    for name in ("name", "uscc", "address", "contact_name", "contact_mobile", "email"):
        page.fill(f"#{name}", fields[name])
    page.select_option("#org_id", str(office.id))
    page.set_input_files("#certificates", str(licence))
    page.click("#send-code")
    page.wait_for_selector("#code-message.text-success")
    code = last_sms(ctx, fields["contact_mobile"]).params["code"]
    page.fill("#code", code)
    shot(page, "register")
    submit(page, "#register-submit")
    page.wait_for_selector("#registered")
    assert_clean(page)

    # 2. the office approves from its pool
    unit = ctx.scalar(select(MemberUnit).where(MemberUnit.uscc == fields["uscc"]))
    login(page, live_server, "office")
    page.goto(f"{live_server}/memberunitview/list/")
    assert "浏览器互助旅程科技有限公司" in page.inner_text("body")
    page.goto(f"{live_server}/memberunitview/show/{unit.id}")
    assert "zhoulvcheng" in page.inner_text("#proposed-username")
    shot(page, "pool-show")
    submit(page, "a.btn:has-text(\"审核通过\")")
    submit(page, "#flow-form button[type=submit]")
    assert any("已完成 1 条" in f for f in flashes(page, "success"))
    assert_clean(page)

    # 3. the one-time password by SMS, the forced change
    sms = last_sms(ctx, fields["contact_mobile"])
    username, password = sms.params["username"], sms.params["password"]
    assert username == "zhoulvcheng"
    login(page, live_server, username, password)
    page.wait_for_selector("#forced-notice")
    page.goto(f"{live_server}/enrollmentview/list/")
    assert "/account/password" in page.url  # every page leads back to the change form
    page.fill("#old_password", password)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    shot(page, "password")
    submit(page, "#password-form button[type=submit]")
    assert "密码已修改" in " ".join(flashes(page, "success"))

    # 4. enrollment: plans and shares, the person list upload, counts, 完成
    page.goto(f"{live_server}/enrollmentview/new")
    row = page.locator("#offered-plans tr", has_text="职工住院医疗互助保障")
    row.locator("input[type=number]").fill("2")
    submit(page, "#next-step")
    page.wait_for_selector("#plans")
    enrollment = ctx.scalars(select(Enrollment).where(Enrollment.member_unit_id == unit.id)).one()
    people = [person_row(group="普通") for _ in range(8)] + [person_row(group="高危") for _ in range(2)]
    sheet = make_xlsx(tmp_path / "参保人员清单.xlsx", [PERSON_HEADER, *people, person_row(group="普通", mobile="1")],
                      sheet="参保人员清单")
    line = page.locator(f"#line-{enrollment.plans[0].id}")
    line.locator("input[type=file]").set_input_files(sheet)
    with page.expect_navigation():
        line.locator("button[type=submit]").click()
    page.wait_for_selector(".result-link")  # 导入失败人员下载 for the bad row
    assert "部分成功" in page.inner_text(f"#line-{enrollment.plans[0].id}")
    assert page.inner_text(f"#line-{enrollment.plans[0].id} .n-normal") == "8"
    page.fill("#staff_count", "30")
    page.fill("#female_staff_count", "12")
    page.fill("#note", "浏览器旅程参保")
    submit(page, "#save-details")
    shot(page, "workspace")
    submit(page, "#submit-enrollment")
    assert "已提交，参保单进入参保初审环节" in " ".join(flashes(page, "success"))
    assert page.inner_text("#status-label") == "待初审"
    assert_clean(page)

    # 5. the office passes 初审
    login(page, live_server, "office")
    page.goto(f"{live_server}/enrollmentview/show/{enrollment.id}")
    submit(page, "a.btn:has-text(\"初审通过\")")
    submit(page, "#flow-form button[type=submit]")
    assert any("已完成 1 条" in f for f in flashes(page, "success"))
    assert_clean(page)

    # 6. the unit enters its invoice (the cap refuses first) and submits
    login(page, live_server, username, NEW_PASSWORD)
    page.goto(f"{live_server}/enrollmentview/show/{enrollment.id}")
    assert page.inner_text("#payable") == "680.00"  # 2 × (8 × 30.00 + 2 × 50.00)
    page.fill("#persons", "5")
    page.fill("#amount", "505")
    submit(page, "#save-invoice")
    assert "超过上限 100.00 元" in " ".join(flashes(page, "danger"))
    page.fill("#persons", "10")
    page.fill("#amount", "680.00")
    submit(page, "#save-invoice")
    shot(page, "invoice")
    submit(page, "#submit-invoices")
    assert "流转至到账确认环节" in " ".join(flashes(page, "success"))

    # 7. finance confirms the payment
    login(page, live_server, "finance")
    page.goto(f"{live_server}/enrollmentview/show/{enrollment.id}")
    page.fill("#paid-amount", "680.00")
    page.fill("#paid-on", page.evaluate("new Date().toLocaleDateString('sv-SE', {timeZone: 'Asia/Shanghai'})"))
    page.fill("#reference", "BROWSER-0001")
    submit(page, "#confirm-payment")
    assert page.inner_text("#status-label") == "已生效"
    assert_clean(page)

    # 8. the unit confirms the list and prints the letter
    login(page, live_server, username, NEW_PASSWORD)
    page.goto(f"{live_server}/letters/")
    submit(page, "#letter-table a.btn")
    page.wait_for_selector("#letter-persons")
    assert page.inner_text("#person-total") == "10"
    assert page.locator("#print-letter").is_disabled()
    page.check("#confirm-list")
    shot(page, "letter")
    with page.expect_download() as info:
        page.click("#print-letter")
    pdf = Path(info.value.path()).read_bytes()
    text = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\x00", "").split())
    assert "浏览器互助旅程科技有限公司" in text and "陆佰捌拾元整" in text and fields["uscc"] in text
    page.goto(f"{live_server}/letters/?tab=printed")
    assert enrollment.number in page.inner_text("#letter-table")
    assert_clean(page)
