"""申领处理 pages through the client, as each role: the journey, and the refused side (another
scope's case → 404, a role without the grant → 403 and nothing changed, malformed input → Chinese)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from models.mutual_aid import Claim, ClaimStatus
from tests.factories import county, licence_png, make_user

from .claims_env import CARD, env  # noqa: F401  (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def page(response) -> str:
    return response.get_data(as_text=True)


def status_of(env, claim_id) -> str:
    env.ctx.expire_all()
    return env.ctx.get(Claim, claim_id).status


def test_office_journey_accept_to_closed(env, client_as):
    staff = client_as(env.staff.username)
    person = env.people[0]
    html = page(staff.get(f"/claims/accept?id_number={person.id_number}"))
    assert "疾病住院" in html and "重大疾病" in html and person.id_number_masked in html
    assert html.count(person.id_number) == 1  # only in the search box the clerk typed it into
    hospital, critical = env.kind("疾病住院").id, env.kind("重大疾病").id
    incident = (env.today - timedelta(days=10)).isoformat()
    response = staff.post("/claims/accept", data={"pick": [f"{person.id}:{hospital}", f"{env.people[1].id}:{critical}"],
                                                  "incident_date": incident}, follow_redirects=True)
    assert "受理成功" in page(response)
    claim = env.ctx.query(Claim).filter_by(insured_person_id=person.id, claim_kind_id=hospital).one()
    assert claim.status == ClaimStatus.MATERIALS
    for kind in claim.claim_kind.material_types:
        response = staff.post(f"/claims/{claim.id}/materials", data={
            "material_type": kind, "file": (io.BytesIO(licence_png()), f"{kind}.png")},
            content_type="multipart/form-data", follow_redirects=True)
        assert "材料已上传" in page(response)
    assert status_of(env, claim.id) == ClaimStatus.FEE_ENTRY
    assert "获取成功" not in page(staff.get("/claims/?tab=pending"))
    response = staff.post("/claims/take", data={"id": [claim.id]}, follow_redirects=True)
    assert "已获取 1 件案件" in page(response)
    response = staff.post(f"/claims/{claim.id}/fee", data={
        "incident_date": incident, "payee_name": "出险人", "payee_relation": "本人", "payee_account_type": "card",
        "payee_bank": "工商银行", "payee_account": CARD}, follow_redirects=True)
    assert "已保存" in page(response)
    response = staff.post(f"/claims/{claim.id}/sheets", data={
        "hospital": "上海市第一人民医院", "admission_date": incident,
        "discharge_date": (env.today - timedelta(days=2)).isoformat(), "total_cost": "56308.05",
        "policy_self_paid": "23307.60"}, follow_redirects=True)
    assert "结算单已添加" in page(response)
    response = staff.post(f"/claims/{claim.id}/calculate", follow_redirects=True)
    assert "互助金额 8323.04 元" in page(response)
    assert CARD not in page(env_client_show(client_as(env.reviewer1.username), claim.id))  # masked to others
    response = staff.post(f"/claims/{claim.id}/submit", follow_redirects=True)
    assert "案件进入申领初审" in page(response)
    r1, r2 = client_as(env.reviewer1.username), client_as(env.reviewer2.username)
    assert claim.number in page(r1.get("/claims/reviews?stage=first"))
    r1.post(f"/claims/{claim.id}/review", data={"action": "approve"})
    assert status_of(env, claim.id) == ClaimStatus.SECOND_REVIEW
    response = r1.post(f"/claims/{claim.id}/review", data={"action": "approve"}, follow_redirects=True)
    assert "初审与复核不能为同一人" in page(response)
    assert status_of(env, claim.id) == ClaimStatus.SECOND_REVIEW
    r2.post(f"/claims/{claim.id}/review", data={"action": "approve"})
    assert status_of(env, claim.id) == ClaimStatus.PENDING_PAYMENT
    finance = client_as(env.finance.username)
    assert claim.number in page(finance.get("/claims/payments"))
    batch = finance.get("/claims/payments/batch.xlsx")
    assert batch.status_code == 200 and batch.mimetype == XLSX
    response = finance.post(f"/claims/{claim.id}/pay", data={"result": "paid", "reference": "BANK001"},
                            follow_redirects=True)
    assert "打款成功" in page(response)
    assert status_of(env, claim.id) == ClaimStatus.CLOSED
    assert claim.number in page(staff.get("/claims/query"))
    export = staff.get(f"/claims/query.xlsx?number={claim.number}")
    assert export.status_code == 200 and export.mimetype == XLSX


def env_client_show(client, claim_id):
    return client.get(f"/claims/{claim_id}")


def test_another_countys_case_is_404_everywhere(env, client_as):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    other_staff = make_user(env.ctx, "办事处业务人员", county(env.ctx, 1))
    other_reviewer = make_user(env.ctx, "业务审核员", county(env.ctx, 1))
    s, r = client_as(other_staff.username), client_as(other_reviewer.username)
    assert s.get(f"/claims/{claim.id}").status_code == 404
    assert s.post(f"/claims/{claim.id}/fee", data={}).status_code == 404
    assert s.post(f"/claims/{claim.id}/delete", data={"confirm": "yes"}).status_code == 404
    assert r.post(f"/claims/{claim.id}/review", data={"action": "approve"}).status_code == 404
    assert status_of(env, claim.id) == ClaimStatus.FIRST_REVIEW
    assert claim.number not in page(r.get("/claims/reviews"))


def test_another_units_handler_sees_404(env, client_as):
    from tests.factories import approved_member_unit

    claim = env.accept("重大疾病")
    _unit, other = approved_member_unit(env.ctx, env.office, env.staff)
    client = client_as(other.username)
    assert client.get(f"/claims/{claim.id}").status_code == 404
    assert client.post("/claims/take", data={"id": [claim.id]}).status_code in (302, 200)
    env.ctx.expire_all()
    assert env.ctx.get(Claim, claim.id).handler_id is None
    assert client_as(env.unit_handler.username).get(f"/claims/{claim.id}").status_code == 200


@pytest.mark.parametrize("who, method, url, data", [
    ("reviewer1", "post", "/claims/take", {"id": ["{id}"]}),
    ("reviewer1", "post", "/claims/accept", {"pick": ["1:1"]}),
    ("finance", "post", "/claims/{id}/review", {"action": "approve"}),
    ("staff", "post", "/claims/{id}/pay", {"result": "paid", "reference": "X"}),
    ("unit_handler", "post", "/claims/{id}/review", {"action": "approve"}),
    ("unit_handler", "post", "/claims/reassign", {"id": ["{id}"], "handler_id": "1"}),
    ("reviewer1", "get", "/claims/payments/batch.xlsx", None),
    ("finance", "get", "/claims/accept", None),
])
def test_role_without_the_grant_is_403_and_nothing_changes(env, client_as, who, method, url, data):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    before = (claim.status, claim.handler_id)
    client = client_as(getattr(env, who).username)
    url = url.format(id=claim.id)
    if data:
        data = {k: [v.format(id=claim.id) for v in vs] if isinstance(vs, list) else vs for k, vs in data.items()}
    response = getattr(client, method)(url, data=data) if method == "post" else client.get(url)
    assert response.status_code == 403
    env.ctx.expire_all()
    after = env.ctx.get(Claim, claim.id)
    assert (after.status, after.handler_id) == before


def test_auditor_reads_the_query_only(env, client_as):
    auditor = make_user(env.ctx, "审计员", env.office)
    client = client_as(auditor.username)
    assert client.get("/claims/query").status_code == 200
    assert client.get("/claims/query.xlsx").status_code == 403
    assert client.get("/claims/reviews").status_code == 403


def test_malformed_input_answers_in_chinese_never_500(env, client_as):
    staff = client_as(env.staff.username)
    assert "证件号码格式不正确" in page(staff.get("/claims/accept?id_number=%3Cscript%3E"))
    assert "日期格式不正确" in page(staff.get("/claims/accept?id_number=110101&incident_date=2025-13-45"))
    response = staff.post("/claims/accept", data={"pick": ["abc:def"]}, follow_redirects=True)
    assert "确认受理列表不正确" in page(response)
    assert "请先勾选要获取的案件" in page(staff.post("/claims/take", data={"id": ["x" * 50]}, follow_redirects=True))
    claim = env.accept("疾病住院")
    env.upload_all(claim)
    staff.post("/claims/take", data={"id": [claim.id]})
    response = staff.post(f"/claims/{claim.id}/sheets", data={"hospital": "一院", "admission_date": "2025-01-01",
                                                              "discharge_date": "2025-01-03", "total_cost": "1e999"},
                          follow_redirects=True)
    assert response.status_code == 200 and "不小于0的金额" in page(response)
    response = staff.post(f"/claims/{claim.id}/fee", data={"payee_account": "6222021234567890121"},
                          follow_redirects=True)
    assert "银行卡号校验不通过" in page(response)
    response = staff.post(f"/claims/{claim.id}/submit", follow_redirects=True)
    assert "请先点击【申领计算】" in page(response)
    response = staff.post(f"/claims/{claim.id}/review", data={"action": "evil"}, follow_redirects=True)
    assert response.status_code == 403  # office staff has no review grant
    response = staff.post(f"/claims/{claim.id}/delete", data={}, follow_redirects=True)
    assert "删除案件须再次确认" in page(response)
    assert staff.get("/claims/99999999").status_code == 404
    finance = client_as(env.finance.username)
    response = finance.post("/claims/payments/return", data={"file": (io.BytesIO(b"hello"), "x.txt")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert "请上传 .xlsx 格式的文件" in page(response)


def test_delete_through_the_page_needs_the_second_confirmation(env, client_as):
    claim = env.accept("重大疾病")
    staff = client_as(env.staff.username)
    assert "我确认删除该案件" in page(staff.get(f"/claims/{claim.id}"))
    response = staff.post(f"/claims/{claim.id}/delete", data={"confirm": "yes"}, follow_redirects=True)
    assert "案件已删除" in page(response)
    assert status_of(env, claim.id) == ClaimStatus.DELETED


def test_supervisor_reassigns_and_releases(env, client_as):
    claim = env.accept("重大疾病")
    staff = client_as(env.staff.username)
    staff.post("/claims/take", data={"id": [claim.id]})
    outsider = make_user(env.ctx, "办事处业务人员", county(env.ctx, 1))
    html = page(staff.get("/claims/?tab=all"))
    assert claim.number in html and "改派" in html
    assert env.staff2.username in html and outsider.username not in html  # only handlers of the scope
    response = staff.post("/claims/reassign", data={"id": [claim.id], "handler_id": env.staff2.id},
                          follow_redirects=True)
    assert "已改派 1 件案件" in page(response)
    env.ctx.expire_all()
    assert env.ctx.get(Claim, claim.id).handler_id == env.staff2.id


def test_payment_failure_and_correction_through_the_pages(env, client_as):
    claim = env.drive(env.accept("重大疾病"), "pending_payment")
    finance = client_as(env.finance.username)
    response = finance.post(f"/claims/{claim.id}/pay", data={"result": "fail", "reason": ""}, follow_redirects=True)
    assert "须填写原因" in page(response)
    finance.post(f"/claims/{claim.id}/pay", data={"result": "fail", "reason": "户名不符"})
    assert status_of(env, claim.id) == ClaimStatus.PAYMENT_FAILED
    staff = client_as(env.staff.username)
    assert "修正收款信息" in page(staff.get(f"/claims/{claim.id}"))
    response = staff.post(f"/claims/{claim.id}/payee", data={"payee_name": "出险人", "payee_bank": "建设银行",
                                                             "payee_account_type": "card", "payee_account": CARD},
                          follow_redirects=True)
    assert "重新进入待打款" in page(response)
    assert status_of(env, claim.id) == ClaimStatus.PENDING_PAYMENT
