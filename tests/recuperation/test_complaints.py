"""投诉 (S000:L47): the member files and reads his own; the handler org's staff and the base's
manager take and answer it; the member gets a 站内信 and an SMS; other scopes answer 404 / 403."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from models.messages import Message
from models.outbox import SmsMessage
from models.recuperation import Complaint
from tests.factories import county, make_user

from .conftest import base_manager, make_base, member_account
from .test_api import token
from .test_views import client_of

pytestmark = pytest.mark.usefixtures("frozen_clock", "policy")
URL = "/api/v1/recuperation/complaints"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture()
def member_api(app, ctx, member_factory):
    def make():
        member = member_factory()
        account = member_account(ctx, member)
        client = app.test_client()
        return member, account, client, token(client, account)

    return make


def file_one(client, auth, base, content="基地餐饮套餐价格高于团队价，要求退还差价"):
    response = client.post(URL, data={"content": content, "base_id": str(base.id),
                                      "files": [(io.BytesIO(png()), "小票.png")]},
                           headers=auth, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json["result"]


def test_member_files_complaint_with_picture_and_reads_it(member_api, base, home_county):
    _m, _a, client, auth = member_api()
    filed = file_one(client, auth, base)
    assert filed["status_label"] == "待处理" and filed["base"] == base.name
    assert filed["handler"] == home_county.name            # the base's county federation handles it
    assert [a["file_name"] for a in filed["attachments"]] == ["小票.png"]
    mine = client.get(URL, headers=auth).json["result"]
    assert [c["id"] for c in mine] == [filed["id"]]


def test_complaint_refusals_are_chinese_and_file_nothing(ctx, member_api, base):
    member, _a, client, auth = member_api()
    short = client.post(URL, json={"content": "差"}, headers=auth)
    assert short.status_code == 400 and "至少5个字" in short.json["message"]
    bad_base = client.post(URL, json={"content": "价格高于团队价了", "base_id": 99999999}, headers=auth)
    assert bad_base.status_code == 400 and bad_base.json["message"] == "所选基地不存在"
    fake = client.post(URL, data={"content": "价格高于团队价了", "files": [(io.BytesIO(b"MZ\x90\x00exe"), "a.png")]},
                       headers=auth, content_type="multipart/form-data")
    assert fake.status_code == 400 and fake.json["code"] == "file_refused"
    too_long = client.post(URL, json={"content": "长" * 2001}, headers=auth)
    assert too_long.status_code == 400 and "最多 2000 字" in too_long.json["message"]
    assert ctx.scalar(select(func.count(Complaint.id)).where(Complaint.member_id == member.id)) == 0


def test_member_reading_another_members_complaint_is_404(member_api, base):
    _m, _a, client, auth = member_api()
    _o, _b, other, other_auth = member_api()
    theirs = file_one(other, other_auth, base)
    response = client.get(f"{URL}/{theirs['id']}", headers=auth)
    assert response.status_code == 404 and response.json["code"] == "not_found"
    assert theirs["id"] not in [c["id"] for c in client.get(URL, headers=auth).json["result"]]
    assert other.get(f"{URL}/{theirs['id']}", headers=other_auth).status_code == 200


def test_county_staff_takes_and_answers_member_gets_message_and_sms(app, ctx, member_api, base, home_county):
    member, account, client, auth = member_api()
    filed = file_one(client, auth, base)
    staff = client_of(app, make_user(ctx, "区县工会管理员", home_county))
    page = staff.get(f"/complaintview/show/{filed['id']}").get_data(as_text=True)
    assert "基地餐饮套餐价格高于团队价" in page and "待处理" in page and "受理投诉" in page and "小票.png" in page
    staff.post(f"/complaintview/flow/take?pk={filed['id']}", data={"pk": filed["id"], "reason": ""})
    assert ctx.get(Complaint, filed["id"]).status == "handling"
    blank = staff.post(f"/complaintview/reply/{filed['id']}", data={"reply": " "}, follow_redirects=True)
    assert "请填写答复内容" in blank.get_data(as_text=True)
    response = staff.post(f"/complaintview/reply/{filed['id']}", data={"reply": "已核实，基地已退还差价 10 元"},
                          follow_redirects=True)
    done = response.get_data(as_text=True)
    assert "投诉已答复办结" in done
    assert "已办结" in done
    assert "已核实，基地已退还差价" in done
    message = ctx.scalar(select(Message).where(Message.recipient_id == account.id, Message.title == "投诉已答复"))
    assert message is not None and "已退还差价" in message.body and message.category_label == "疗休养"
    sms = ctx.scalar(select(SmsMessage).where(SmsMessage.phone == member.phone,
                                              SmsMessage.template_code == "recup_complaint_answered"))
    assert sms is not None and base.name in sms.text
    inbox = client.get("/api/v1/worker/messages", headers=auth).json["result"]
    answered = [m for m in inbox if m["title"] == "投诉已答复"]
    assert answered and answered[0]["link"] == f"{URL}/{filed['id']}"
    shown = client.get(f"{URL}/{filed['id']}", headers=auth).json["result"]
    assert shown["status_label"] == "已办结" and shown["reply"] == "已核实，基地已退还差价 10 元"
    again = staff.post(f"/complaintview/reply/{filed['id']}", data={"reply": "再答复"}, follow_redirects=True)
    assert "不能执行" in again.get_data(as_text=True)


def test_base_manager_answers_own_base_and_another_base_is_404(app, ctx, member_api, base, home_county):
    _m, _a, client, auth = member_api()
    filed = file_one(client, auth, base)
    other = client_of(app, base_manager(ctx, make_base(ctx, home_county)))
    assert other.get(f"/complaintview/show/{filed['id']}").status_code == 404
    assert other.post(f"/complaintview/reply/{filed['id']}", data={"reply": "越权答复"}).status_code == 404
    assert other.post(f"/complaintview/flow/take?pk={filed['id']}", data={"pk": filed["id"]}).status_code == 404
    own = client_of(app, base_manager(ctx, base))
    assert "基地餐饮套餐价格高于团队价" in own.get("/complaintview/list/").get_data(as_text=True)
    own.post(f"/complaintview/flow/take?pk={filed['id']}", data={"pk": filed["id"], "reason": ""})
    own.post(f"/complaintview/reply/{filed['id']}", data={"reply": "已联系职工退还差价"})
    assert ctx.get(Complaint, filed["id"]).status == "closed"


def test_other_county_404_and_roles_without_grant_403(app, ctx, member_api, base, union, home_county):
    _m, _a, client, auth = member_api()
    filed = file_one(client, auth, base)
    far = client_of(app, make_user(ctx, "区县工会管理员", county(ctx, 1)))
    assert far.get(f"/complaintview/show/{filed['id']}").status_code == 404
    assert far.post(f"/complaintview/reply/{filed['id']}", data={"reply": "越权答复"}).status_code == 404
    clerk = client_of(app, make_user(ctx, "基层工会管理员", union))
    assert clerk.get("/complaintview/list/").status_code == 403
    assert clerk.post(f"/complaintview/reply/{filed['id']}", data={"reply": "无权答复"}).status_code == 403
    auditor = client_of(app, make_user(ctx, "审计员", home_county))
    assert auditor.get(f"/complaintview/show/{filed['id']}").status_code == 200
    assert auditor.post(f"/complaintview/reply/{filed['id']}", data={"reply": "无权答复"}).status_code == 403
    assert ctx.get(Complaint, filed["id"]).status == "pending" and ctx.get(Complaint, filed["id"]).reply is None
