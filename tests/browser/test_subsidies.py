"""Playwright in Debian's Chromium + the worker API (seed 001): a worker binds his account with the SMS
code, fills the three steps and submits; reviewer A passes 初核 with the seed's figures (C1 → 8,323.04),
reviewer B passes 复核, finance marks it 已打款; the worker then sees 办结 and the message with the
card tail through the API. Then finance pays two approved applications in one bank batch: the payments
page lists them, the batch file carries them, the bank's return file marks one paid and one failed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.services.mutual_aid.subsidies import today
from models.mutual_aid import SubsidyApplication
from models.outbox import SmsMessage
from tests.browser.pages import assert_clean, flashes, login, submit
from tests.factories import county, make_user, make_xlsx
from tests.mutual_aid.conftest import finance, office, office_staff, plan, unit_and_handler  # noqa: F401
from tests.mutual_aid.worker_fixtures import (  # noqa: F401
    CARD,
    at_status,
    covered,
    other_worker,
    png,
    reviewer,
    reviewer2,
    worker,
)

SHOTS = "/tmp/h3-subsidy-{}.png"


def shot(page, name):
    page.screenshot(path=SHOTS.format(name), full_page=True)


def _file(name):
    return {"name": name, "mimeType": "image/png", "buffer": png()}


def test_a_worker_applies_and_the_office_reviews_twice_and_pays(live_server, page, ctx, covered, reviewer):
    person = covered[0]
    worker = make_user(ctx, "会员")
    reviewer_b = make_user(ctx, "业务审核员", county(ctx, 0))
    api = page.context.request

    # 1. the worker client: JWT login, SMS code from the outbox, bind, three steps, submit
    login_response = api.post(f"{live_server}/api/v1/security/login", data={
        "username": worker.username, "password": "Union@2026demo", "provider": "db", "refresh": False})
    assert login_response.ok, login_response.text()
    headers = {"Authorization": f"Bearer {login_response.json()['access_token']}"}
    assert api.post(f"{live_server}/api/v1/worker/sms-code", headers=headers, data={"phone": person.mobile}).ok
    ctx.expire_all()
    code = ctx.scalars(select(SmsMessage).where(SmsMessage.phone == person.mobile)
                       .order_by(SmsMessage.id.desc())).first().params["code"]
    bound = api.post(f"{live_server}/api/v1/worker/bind", headers=headers, data={
        "name": person.name, "id_type": "居民身份证", "id_number": person.id_number, "phone": person.mobile,
        "code": code})
    assert bound.status == 201, bound.text()
    number = api.post(f"{live_server}/api/v1/worker/subsidies", headers=headers, data={}).json()["result"]["number"]
    base = f"{live_server}/api/v1/worker/subsidies/{number}"
    assert api.put(f"{base}/step/1", headers=headers,
                   multipart={"front": _file("正面.png"), "back": _file("反面.png")}).ok
    step2 = api.put(f"{base}/step/2", headers=headers, multipart={
        "admission_date": (today() - timedelta(days=6)).isoformat(),
        "discharge_date": (today() - timedelta(days=3)).isoformat(),
        "hospital": "广西医科大学第一附属医院", "receipts": _file("发票.png")})
    assert step2.ok, step2.text()
    assert api.put(f"{base}/step/3", headers=headers, data={"payee_bank": "中国工商银行南宁分行",
                                                            "payee_account": CARD}).ok
    submitted = api.post(f"{base}/submit", headers=headers)
    assert submitted.ok and submitted.json()["result"]["status_label"] == "待初核"
    application = ctx.scalar(select(SubsidyApplication).where(SubsidyApplication.number == number))

    # 2. reviewer A: 初核 with the seed's figures
    login(page, live_server, reviewer.username)
    page.goto(f"{live_server}/subsidyfirstreviewview/list/?_flt_0_number={number}")  # searched by number
    assert number in page.inner_text("body") and "已等待" in page.inner_text("body")
    shot(page, "first-queue")
    page.click(f"a[href*='/subsidyfirstreviewview/show/{application.id}']")
    # the settlement sheet's figures; the base follows the default formula by itself
    page.fill("#total_cost", "56308.05")
    page.fill("#fund_paid", "30000.00")
    page.fill("#self_paid_full", "3000.45")
    assert page.input_value("#base") == "23307.60"  # 56,308.05 − 30,000.00 − 3,000.45, not typed
    page.fill("#base", "20000")  # editable: the reviewer's own base wins …
    page.fill("#other_paid", "1.00")
    assert page.input_value("#base") == "20000"
    page.fill("#base", "")  # … and emptying it brings the formula back
    page.fill("#other_paid", "")
    assert page.input_value("#base") == "23307.60"
    shot(page, "first-show")
    submit(page, "#step-approve_first button[type=submit]")
    assert any("「初核通过」已完成" in f for f in flashes(page, "success"))
    assert_clean(page)

    # 3. reviewer B: 复核
    login(page, live_server, reviewer_b.username)
    page.goto(f"{live_server}/subsidysecondreviewview/list/")
    page.click(f"a[href*='/subsidysecondreviewview/show/{application.id}']")
    assert "8,323.04" in page.inner_text("body")
    submit(page, "#step-approve_second button[type=submit]")
    assert any("「复核通过」已完成" in f for f in flashes(page, "success"))
    assert_clean(page)

    # 4. finance: 已打款
    login(page, live_server, "finance")
    page.goto(f"{live_server}/subsidypaymentview/list/")
    assert "尾号3235" in page.inner_text("body")
    page.click(f"a[href*='/subsidypaymentview/show/{application.id}']")
    shot(page, "payment-show")
    submit(page, "#step-pay button[type=submit]")
    assert any("「已打款」已完成" in f for f in flashes(page, "success"))
    assert_clean(page)
    shot(page, "paid")

    # 5. the worker sees 办结 and the message
    detail = api.get(base, headers=headers).json()["result"]
    assert detail["status_label"] == "办结" and detail["amount"] == "8323.04"
    messages = api.get(f"{live_server}/api/v1/worker/messages?category=补助申请", headers=headers).json()["result"]
    assert "补助金已打款至尾号3235的银行卡" in messages[0]["body"] and "补助金额：8323.04" in messages[0]["body"]


def test_finance_pays_two_subsidies_in_one_bank_batch(live_server, page, ctx, worker, other_worker, reviewer,
                                                     reviewer2, finance, tmp_path):
    from app.xlsx.reader import read_rows

    paid, failed = (at_status(ctx, user, "approved", reviewer, reviewer2, finance) for user in (worker, other_worker))

    # 1. the payments page: both applications waiting, the account masked
    login(page, live_server, "finance")
    page.goto(f"{live_server}/claims/payments")
    table = page.inner_text("#subsidy-table")
    assert paid.number in table and failed.number in table and "8323.04" in table
    assert CARD not in page.inner_text("body") and "6222***********3235" in table
    assert_clean(page)
    shot(page, "batch-queue")

    # 2. 导出打款批次: the file the bank gets carries the whole account
    with page.expect_download() as download:
        page.click("#batch-export")
    path = tmp_path / "批次.xlsx"
    download.value.save_as(path)
    rows = {r[0]: r for r in read_rows(str(path))}
    assert rows[paid.number][4] == CARD and rows[paid.number][6] == "补助申请"

    # 3. 导入回盘: one 成功, one 失败
    back = make_xlsx(tmp_path / "回盘.xlsx", [["业务编号", "打款结果", "银行流水号", "打款日期", "失败原因"],
                                             [paid.number, "成功", "ICBC-ZY-9", "", ""],
                                             [failed.number, "失败", "", "", "账户已冻结"]], sheet="银行回盘")
    page.set_input_files("#return-file", back)
    submit(page, "#bank-return button[type=submit]")
    assert any("银行回盘" in f for f in flashes(page, "success"))
    assert_clean(page)
    page.goto(f"{live_server}/claims/payments")
    assert paid.number not in page.inner_text("#subsidy-table")
    failed_rows = page.inner_text("#failed-subsidy-table")
    assert failed.number in failed_rows and "账户已冻结" in failed_rows
    assert_clean(page)
    shot(page, "batch-returned")
    ctx.expire_all()
    assert ctx.get(SubsidyApplication, paid.id).status == "done"
    assert ctx.get(SubsidyApplication, failed.id).status == "pay_failed"
