"""The worker client API (JWT, seed 001): bind, 参保记录, a subsidy application in three steps, info
changes, 站内信, and the refused side — another worker's application, message or record → 404; a role
without the grant → 403 and nothing changed; every refusal Chinese JSON."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.services.mutual_aid import subsidies, workers
from models.messages import Message
from models.mutual_aid import SubsidyApplication, WorkerBinding
from models.outbox import SmsMessage
from seed.loader import DEMO_PASSWORD
from tests.factories import age_codes, make_user
from tests.mutual_aid.worker_fixtures import (  # noqa: F401 (fixtures)
    CARD,
    at_status,
    beijing_today,
    covered,
    other_worker,
    png,
    reviewer,
    reviewer2,
    worker,
)


def token(client, username):
    response = client.post("/api/v1/security/login", json={"username": username, "password": DEMO_PASSWORD,
                                                           "provider": "db", "refresh": False})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture()
def api(app):
    client = app.test_client()

    def make(user):
        headers = token(client, user.username)

        def call(method, url, **kw):
            return getattr(client, method)(url, headers=headers, **kw)
        return call
    return make


def chinese(response) -> bool:
    body = response.get_json()
    return bool(body and body.get("code") and re.search(r"[\u4e00-\u9fff]", body.get("message", "")))


def test_bind_unknown_worker_gets_exactly_the_seeds_message(ctx, api, covered):
    user = make_user(ctx, "会员")
    call = api(user)
    person = covered[2]
    assert call("post", "/api/v1/worker/sms-code", json={"phone": person.mobile}).status_code == 200
    sms = ctx.scalars(select(SmsMessage).where(SmsMessage.phone == person.mobile).order_by(SmsMessage.id.desc())).first()
    response = call("post", "/api/v1/worker/bind", json={"name": "查无此人", "id_type": "居民身份证",
                                                        "id_number": person.id_number, "phone": person.mobile,
                                                        "code": sms.params["code"]})
    assert response.status_code == 404
    assert response.json == {"code": "worker_not_found", "message": "未查询到该职工信息，请确认所填内容再重试"}
    assert ctx.scalar(select(func.count(WorkerBinding.id)).where(WorkerBinding.user_id == user.id)) == 0


def test_bind_needs_the_phone_on_record_and_a_valid_code(ctx, api, covered):
    user, person = make_user(ctx, "会员"), covered[2]
    call = api(user)
    other_phone = "13700009999"
    code = workers.send_bind_code(ctx, other_phone)
    body = {"name": person.name, "id_type": "resident", "id_number": person.id_number, "phone": other_phone,
            "code": code}
    response = call("post", "/api/v1/worker/bind", json=body)
    assert response.status_code == 409 and response.json["message"] == "手机号与登记信息不一致，请联系所在单位更新"
    code = workers.send_bind_code(ctx, person.mobile)
    wrong = call("post", "/api/v1/worker/bind", json={**body, "phone": person.mobile, "code": "000000"
                                                      if code != "000000" else "111111"})
    assert wrong.status_code == 400 and chinese(wrong) and "验证码" in wrong.json["message"]
    age_codes(ctx, person.mobile)
    code = workers.send_bind_code(ctx, person.mobile)
    ok = call("post", "/api/v1/worker/bind", json={**body, "phone": person.mobile, "code": code})
    assert ok.status_code == 201 and ok.json["result"]["id_number"] != person.id_number
    records = call("get", "/api/v1/worker/messages?category=参保记录").json["result"]
    assert records[0]["title"] == "新增参保记录" and records[0]["link"] == "/api/v1/worker/me"
    me = call("get", "/api/v1/worker/me")
    assert me.status_code == 200 and me.json["result"]["records"][0]["plan"]
    assert me.json["result"]["records"][0]["status"] == "有效"


def test_an_unbound_account_is_told_to_bind(ctx, api, covered):
    call = api(make_user(ctx, "会员"))
    for method, url in (("post", "/api/v1/worker/subsidies"), ("get", "/api/v1/worker/me"),
                        ("get", "/api/v1/articles/")):
        response = call(method, url, json={})
        assert response.status_code == 404 and response.json["code"] == "not_bound" and chinese(response)
    assert call("get", "/api/v1/worker/subsidies/ZY20201230L000001").status_code == 404


def test_a_subsidy_application_in_three_steps_through_the_api(ctx, api, worker):
    call = api(worker)
    created = call("post", "/api/v1/worker/subsidies", json={})
    assert created.status_code == 201, created.json
    number = created.json["result"]["number"]
    assert created.json["result"]["status_label"] == "草稿" and created.json["result"]["amount_label"] == "待定"
    submit_early = call("post", f"/api/v1/worker/subsidies/{number}/submit")
    assert submit_early.status_code == 409 and chinese(submit_early)
    step1 = call("put", f"/api/v1/worker/subsidies/{number}/step/1", content_type="multipart/form-data",
                 data={"front": (io.BytesIO(png()), "正面.png"), "back": (io.BytesIO(png()), "反面.png")})
    assert step1.status_code == 200 and step1.json["result"]["files"]["id_front"] == 1
    admission = beijing_today() - timedelta(days=5)
    step2 = call("put", f"/api/v1/worker/subsidies/{number}/step/2", content_type="multipart/form-data",
                 data={"admission_date": admission.isoformat(), "discharge_date": beijing_today().isoformat(),
                       "hospital": "南宁市第一人民医院", "receipts": [(io.BytesIO(png()), "发票1.png"),
                                                                   (io.BytesIO(png()), "发票2.png")]})
    assert step2.status_code == 200 and step2.json["result"]["files"]["receipt"] == 2
    bad3 = call("put", f"/api/v1/worker/subsidies/{number}/step/3",
                json={"payee_bank": "工行", "payee_account": "6222020200112283236"})
    assert bad3.status_code == 400 and bad3.json["message"] == "银行卡号校验不通过，请核对"
    step3 = call("put", f"/api/v1/worker/subsidies/{number}/step/3", json={"payee_bank": "工行", "payee_account": CARD})
    assert step3.status_code == 200 and step3.json["result"]["payee_account"] == "尾号3235"
    submitted = call("post", f"/api/v1/worker/subsidies/{number}/submit")
    assert submitted.status_code == 200 and submitted.json["result"]["status_label"] == "待初核"
    again = call("post", f"/api/v1/worker/subsidies/{number}/submit")
    assert again.status_code == 409 and again.json["message"] == "当前状态为「待初核」，不能执行「提交审核」"
    listed = call("get", "/api/v1/worker/subsidies").json["result"]
    assert [a["number"] for a in listed] == [number]
    detail = call("get", f"/api/v1/worker/subsidies/{number}").json["result"]
    assert detail["progress"][1]["current"] and detail["allowed_actions"] == []


def test_bad_steps_and_dates_are_chinese_400s(ctx, api, worker):
    call = api(worker)
    number = call("post", "/api/v1/worker/subsidies", json={}).json["result"]["number"]
    for step, data in ((4, {}), (2, {"admission_date": "昨天"})):
        response = call("put", f"/api/v1/worker/subsidies/{number}/step/{step}", json=data)
        assert response.status_code in (400, 409) and chinese(response), response.get_data(as_text=True)
    response = call("put", f"/api/v1/worker/subsidies/{number}/step/1", content_type="multipart/form-data",
                    data={"front": (io.BytesIO(b"not a picture"), "x.png"), "back": (io.BytesIO(png()), "b.png")})
    assert response.status_code == 400 and chinese(response)


def test_the_worker_sees_done_and_the_message_through_the_api(ctx, api, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "done", reviewer, reviewer2, finance)
    call = api(worker)
    detail = call("get", f"/api/v1/worker/subsidies/{app_.number}").json["result"]
    assert detail["status_label"] == "办结" and detail["amount"] == "8323.04" and detail["base"] == "23307.60"
    assert detail["ratio_label"] == "累进制" and all(step["done"] for step in detail["progress"])
    unread = call("get", "/api/v1/worker/messages/unread-count").json["result"]
    assert unread["subsidy"] == 1 and unread["enrollment"] == 1 and unread["total"] == 2
    messages = call("get", "/api/v1/worker/messages?category=补助申请").json["result"]
    assert "补助金已打款至尾号3235的银行卡" in messages[0]["body"]
    assert messages[0]["link"] == f"/api/v1/worker/subsidies/{app_.number}" and not messages[0]["read"]
    assert call("post", f"/api/v1/worker/messages/{messages[0]['id']}/read").json["result"]["read"]
    assert call("get", "/api/v1/worker/messages/unread-count").json["result"] == {
        "enrollment": 1, "subsidy": 0, "info_change": 0, "recuperation": 0, "total": 1}


def test_read_all_marks_every_unread_message(ctx, api, worker, reviewer, reviewer2, finance):
    at_status(ctx, worker, "pay_failed", reviewer, reviewer2, finance)
    call = api(worker)
    assert call("get", "/api/v1/worker/messages/unread-count").json["result"]["total"] == 2
    assert call("post", "/api/v1/worker/messages/read-all").json["result"]["count"] == 2
    assert call("get", "/api/v1/worker/messages/unread-count").json["result"]["total"] == 0
    bad = call("get", "/api/v1/worker/messages?category=其他")
    assert bad.status_code == 400 and chinese(bad)


def test_payment_failure_corrected_through_the_api(ctx, api, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pay_failed", reviewer, reviewer2, finance)
    call = api(worker)
    detail = call("get", f"/api/v1/worker/subsidies/{app_.number}").json["result"]
    assert detail["allowed_actions"] == ["payee"] and detail["pay_fail_reason"] == "账户已销户"
    fixed = call("put", f"/api/v1/worker/subsidies/{app_.number}/payee",
                 json={"payee_bank": "中国农业银行", "payee_account": "6228480402564890018"})
    assert fixed.status_code == 200 and fixed.json["result"]["status_label"] == "审核通过"


def test_an_info_change_through_the_api(ctx, api, worker):
    call = api(worker)
    created = call("post", "/api/v1/worker/info-changes", content_type="multipart/form-data",
                   data={"phone": "13912340000", "evidence": [(io.BytesIO(png()), "凭证.png")]})
    assert created.status_code == 201, created.json
    result = created.json["result"]
    assert result["number"].startswith("BG") and result["progress_text"] == "变更申请已提交 请等待审核通知"
    phone = next(f for f in result["fields"] if f["field"] == "phone")
    assert phone["after"] == "13912340000" and phone["changed"]
    second = call("post", "/api/v1/worker/info-changes", content_type="multipart/form-data",
                  data={"phone": "13912340001", "evidence": [(io.BytesIO(png()), "凭证.png")]})
    assert second.status_code == 409 and second.json["message"] == "已存在未办结的变更记录，不允许重新申请"
    both = call("post", "/api/v1/worker/info-changes", json={"name": "陆明本", "id_number": "110101199003070011"})
    assert both.status_code in (400, 409) and chinese(both)


# --- refused side -----------------------------------------------------------------------------
def test_another_workers_application_message_and_record_are_404(ctx, api, worker, other_worker, reviewer,
                                                                  reviewer2, finance):
    app_ = at_status(ctx, worker, "done", reviewer, reviewer2, finance)
    message = ctx.scalar(select(Message).where(Message.recipient_id == worker.id))
    stranger = api(other_worker)
    for method, url in (("get", f"/api/v1/worker/subsidies/{app_.number}"),
                        ("delete", f"/api/v1/worker/subsidies/{app_.number}"),
                        ("post", f"/api/v1/worker/subsidies/{app_.number}/submit"),
                        ("put", f"/api/v1/worker/subsidies/{app_.number}/payee"),
                        ("post", f"/api/v1/worker/messages/{message.id}/read")):
        response = stranger(method, url, json={})
        assert response.status_code == 404 and chinese(response), (url, response.get_data(as_text=True))
    assert ctx.get(Message, message.id).read_at is None
    # his own 参保记录 only
    mine = stranger("get", "/api/v1/worker/me").json["result"]["records"]
    assert {r["id"] for r in mine}.isdisjoint({app_.insured_person_id})
    other_person = api(other_worker)("post", "/api/v1/worker/subsidies", json={"insured_person_id": app_.insured_person_id})
    assert other_person.status_code == 404 and chinese(other_person)


def test_a_role_without_the_grant_gets_403_and_nothing_changes(ctx, api, worker, reviewer):
    before = ctx.scalar(select(func.count(SubsidyApplication.id)))
    response = api(reviewer)("post", "/api/v1/worker/subsidies", json={})
    assert response.status_code == 403 and chinese(response)
    assert ctx.scalar(select(func.count(SubsidyApplication.id))) == before


def test_the_worker_api_is_in_the_openapi_spec_with_a_chinese_tag(client_as):
    spec = client_as("county_admin").get("/api/v1/_openapi").get_json()
    paths = [p for p in spec["paths"] if p.startswith(("/api/v1/worker/", "/api/v1/articles/"))]
    assert "/api/v1/worker/bind" in paths and "/api/v1/worker/subsidies/{number}/step/{step}" in paths
    for path in paths:
        assert all(op["tags"] == ["职工客户端"] for op in spec["paths"][path].values()), path


def test_the_subsidy_service_double_submit_is_refused_after_the_first(ctx, worker):
    from tests.mutual_aid.worker_fixtures import filled

    number = filled(ctx, worker)
    subsidies.submit_application(ctx, worker, number)
    from app.services.errors import InvalidTransitionError

    with pytest.raises(InvalidTransitionError):
        subsidies.submit_application(ctx, worker, number)


def test_an_enrollment_taking_effect_tells_the_bound_worker(ctx, worker, covered):
    from app.services import messages as inbox
    from models.mutual_aid import Enrollment

    before = inbox.unread_counts(ctx, worker.id)["enrollment"]
    assert workers.notify_enrolled(ctx, ctx.get(Enrollment, covered[0].enrollment_id)) == 1
    ctx.commit()
    assert inbox.unread_counts(ctx, worker.id)["enrollment"] == before + 1


def test_malformed_and_oversized_input_is_a_chinese_refusal_never_a_500(ctx, api, worker):
    call = api(worker)
    for method, url, kw in (
            ("post", "/api/v1/worker/subsidies", {"json": {"insured_person_id": 10**30}}),
            ("post", "/api/v1/worker/subsidies", {"json": {"insured_person_id": "abc"}}),
            ("get", "/api/v1/worker/subsidies/" + "Z" * 500, {}),
            ("post", f"/api/v1/worker/messages/{10**12}/read", {}),
            ("get", f"/api/v1/articles/{10**12}", {}),
            ("get", "/api/v1/worker/messages?page=-1", {}),
            ("post", "/api/v1/worker/bind", {"data": "not json", "content_type": "application/json"}),
            ("post", "/api/v1/worker/info-changes", {"json": {"name": "x" * 5000}}),
            ("put", "/api/v1/worker/subsidies/ZY1/step/9", {"json": []})):
        response = call(method, url, **kw)
        assert response.status_code in (400, 404, 409), (url, response.status_code)
        assert chinese(response), (url, response.get_data(as_text=True))


def test_the_seeded_demo_worker_logs_in_and_sees_his_record(app):
    client = app.test_client()
    headers = token(client, "worker")  # README 演示账号: worker / the demo password
    me = client.get("/api/v1/worker/me", headers=headers)
    assert me.status_code == 200, me.get_data(as_text=True)
    record = me.json["result"]["records"][0]
    assert record["plan"] == "职工住院医疗互助保障" and record["status"] == "有效"
    assert record["unit"] == "上海黄浦互助示范科技有限公司"
    assert client.get("/api/v1/worker/subsidies", headers=headers).status_code == 200
