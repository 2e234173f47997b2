"""Playwright in Debian's Chromium, one claim's whole story (seed 004 申领管理): an office clerk accepts
a 疾病住院 claim by the insured's ID number, uploads the required materials, takes the case from the
pool, enters the payee and a settlement sheet, calculates (8,323.04 with the demo tiers) and submits;
one reviewer passes 初审, another 复核; finance marks it paid; the case shows as 结案 in 申领查询."""
from datetime import timedelta

from models.mutual_aid import Claim, ClaimStatus
from tests.browser.pages import assert_clean, flashes, login, submit, type_datetime
from tests.factories import licence_png
from tests.mutual_aid.claims_env import CARD, env  # noqa: F401  (fixture)

SHOTS = "/tmp/h11-{}.png"


def shot(page, name):
    page.screenshot(path=SHOTS.format(name), full_page=True)


def test_clerk_accepts_a_hospital_claim_and_it_is_paid_and_closed(live_server, page, env, tmp_path):
    person = env.people[0]
    kind = env.kind("疾病住院")
    picture = tmp_path / "材料.png"
    picture.write_bytes(licence_png())
    admission, discharge = env.today - timedelta(days=10), env.today - timedelta(days=2)

    # 1. 申领受理: the ID number, 查询, tick 疾病住院, add to the list, 确认受理
    login(page, live_server, env.staff.username)
    page.goto(f"{live_server}/claims/accept")
    page.fill("#id_number", person.id_number)
    type_datetime(page, "#incident_date", admission.isoformat())
    submit(page, "#claim-query")
    page.check(f"#claim-options input[value='{person.id}:{kind.id}']")
    shot(page, "accept-options")
    submit(page, "#claim-add")
    assert "疾病住院" in page.inner_text("#claim-picked")
    submit(page, "#claim-accept")
    assert any("受理成功" in f for f in flashes(page, "success"))
    assert_clean(page)
    claim = env.ctx.query(Claim).filter_by(insured_person_id=person.id, claim_kind_id=kind.id).one()
    assert claim.number in page.inner_text("#pool-table")  # the 材料上传 tab

    # 2. 材料上传: every required type, then the case is in 费用录入
    page.goto(f"{live_server}/claims/{claim.id}")
    for material in kind.material_types:
        page.select_option("#material_type", material)
        page.set_input_files("#material-file", str(picture))
        submit(page, "#materials-upload")
        assert any("材料已上传" in f for f in flashes(page, "success"))
    assert page.inner_text("#claim-status") == "费用录入"
    shot(page, "materials")

    # 3. the pool: 获取 from 待处理, then 处理 from 处理中
    page.goto(f"{live_server}/claims/?tab=pending")
    page.check(f"#pool-table input[value='{claim.id}']")
    submit(page, "#pool-take")
    assert any("已获取 1 件案件" in f for f in flashes(page, "success"))
    submit(page, f"#pool-table tr:has-text('{claim.number}') a:has-text('处理')")

    # 4. fee entry: incident, payee, a settlement sheet; 申领计算; 申领提交
    type_datetime(page, "#incident_date", admission.isoformat())
    page.fill("#incident_type", "疾病")
    page.fill("#payee_name", person.name)
    page.fill("#payee_bank", "中国工商银行")
    page.fill("#payee_branch", "黄浦支行")
    page.fill("#payee_account", CARD)
    submit(page, "#fee-save")
    assert any("已保存" in f for f in flashes(page, "success"))
    assert CARD not in page.content() and CARD[-4:] in page.get_attribute("#payee_account", "placeholder")
    page.fill("#hospital", "上海市第一人民医院")
    type_datetime(page, "#admission_date", admission.isoformat())
    type_datetime(page, "#discharge_date", discharge.isoformat())
    page.fill("#total_cost", "56308.05")
    page.fill("#policy_self_paid", "23307.60")
    page.fill("#receipt_number", "PJ20260001")
    submit(page, "#sheet-add")
    assert "上海市第一人民医院" in page.inner_text("#sheet-table")
    submit(page, "#claim-calculate")
    assert any("互助金额 8323.04 元" in f for f in flashes(page, "success"))
    assert "8,323.04" in page.inner_text("#breakdown") or "8323.04" in page.inner_text("#breakdown")
    assert_clean(page)
    shot(page, "calculated")
    submit(page, "#claim-submit")
    assert any("案件进入申领初审" in f for f in flashes(page, "success"))

    # 5. 申领初审 by one reviewer, 复核 by another
    for reviewer, stage in ((env.reviewer1, "first"), (env.reviewer2, "second")):
        login(page, live_server, reviewer.username)
        page.goto(f"{live_server}/claims/reviews?stage={stage}")
        submit(page, f"#queue-table tr:has-text('{claim.number}') a:has-text('审核')")
        assert CARD not in page.inner_text("body")  # the card is masked on screen
        if stage == "second":
            shot(page, "second-review")
        submit(page, "#review-approve")
        assert any("审核通过" in f for f in flashes(page, "success"))
        assert_clean(page)

    # 6. finance: 打款成功 with the bank reference
    login(page, live_server, env.finance.username)
    page.goto(f"{live_server}/claims/payments")
    assert claim.number in page.inner_text("#queue-table")
    submit(page, f"#queue-table tr:has-text('{claim.number}') a:has-text('打款')")
    page.fill("#reference", "ICBC20260001")
    submit(page, "#pay-ok")
    assert any("打款成功" in f for f in flashes(page, "success"))
    assert_clean(page)

    # 7. 申领查询 shows the closed case
    login(page, live_server, env.staff.username)
    page.goto(f"{live_server}/claims/query")
    page.fill("#q-number", claim.number)
    submit(page, "#query-form button[type=submit]")
    row = page.inner_text("#query-table")
    assert claim.number in row and "结案" in row and "8323.04" in row
    assert_clean(page)
    shot(page, "query")
    env.ctx.expire_all()
    assert env.ctx.get(Claim, claim.id).status == ClaimStatus.CLOSED
