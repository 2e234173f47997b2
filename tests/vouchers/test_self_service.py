"""The member's app through the API (JWT): /me labels, 工会会员认证 against the registry, activities that
say whether and why one may claim, claims refused with stable codes."""
from sqlalchemy import select

from models.members import CertStatus, Member, MembershipStatus
from models.security import AppUser
from models.vouchers import Voucher
from tests.factories import base_of, county, make_member, make_user
from tests.test_api import _token


def _demo_member(ctx):
    return ctx.get(Member, ctx.scalar(select(AppUser.member_id).where(AppUser.username == "member")))


def test_me_says_status_and_certification_in_chinese_keeping_the_codes(app, ctx):
    client = app.test_client()
    me = client.get("/api/v1/me/", headers=_token(client, "member")).json["result"]
    assert (me["status"], me["status_label"]) == ("active", "在会")
    assert (me["cert_status"], me["cert_status_label"]) == ("verified", "已认证")


def _account(ctx, username):
    return make_user(ctx, "会员", None, username=username)


def test_certification_matches_name_and_id_number_then_awaits_review(app, ctx):
    union = base_of(ctx, county(ctx, 0), 1)
    member = make_member(ctx, union, name="章认证")
    user = _account(ctx, f"cert{member.id}")
    client = app.test_client()
    headers = _token(client, user.username)
    assert client.get("/api/v1/me/", headers=headers).json["code"] == "not_bound"
    for body in ({"name": "章认证", "id_number": member.id_number[:-1] + ("0" if member.id_number[-1] != "0" else "1")},
                 {"name": "章认错", "id_number": member.id_number}):
        refused = client.post("/api/v1/me/certification", json=body, headers=headers)
        assert refused.status_code == 404 and refused.json == {"code": "member_not_found", "message": "未查询到会员信息"}
    assert client.post("/api/v1/me/certification", json={"name": "章认证"}, headers=headers).status_code == 400
    assert client.post("/api/v1/me/certification", data="not json", headers=headers).status_code == 400
    done = client.post("/api/v1/me/certification", json={"name": " 章认证 ", "id_number": member.id_number.lower()},
                       headers=headers)
    assert done.status_code == 200 and done.json["result"]["cert_status_label"] == "待审核"
    again = client.post("/api/v1/me/certification", json={"name": "章认证", "id_number": member.id_number},
                        headers=headers)
    assert again.status_code == 409 and again.json["code"] == "already_pending"
    ctx.expire_all()
    assert ctx.get(Member, member.id).cert_status == CertStatus.PENDING
    assert ctx.get(AppUser, user.id).member_id == member.id
    me = client.get("/api/v1/me/", headers=headers).json["result"]
    assert me["cert_status_label"] == "待审核" and me["name"] == "章认证"
    # someone else who knows the same name and number cannot take the membership
    thief = _account(ctx, f"thief{member.id}")
    taken = client.post("/api/v1/me/certification", json={"name": "章认证", "id_number": member.id_number},
                        headers=_token(client, thief.username))
    assert taken.status_code == 409 and taken.json["code"] == "already_bound"
    # the base union reviews it in the existing flow
    from app.services import members

    members.review_certification(ctx, member.id, "approve", actor=make_user(ctx, "基层工会管理员", union))
    assert client.get("/api/v1/me/", headers=headers).json["result"]["cert_status_label"] == "已认证"
    verified = client.post("/api/v1/me/certification", json={"name": "章认证", "id_number": member.id_number},
                           headers=headers)
    assert verified.status_code == 409 and verified.json["code"] == "already_verified"


def test_certification_is_for_member_accounts_only(app):
    client = app.test_client()
    assert client.post("/api/v1/me/certification", json={}).status_code == 401
    refused = client.post("/api/v1/me/certification", json={}, headers=_token(client, "county_admin"))
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"


def test_activities_say_why_a_member_may_not_claim(app, ctx, open_activity):
    member = _demo_member(ctx)
    activity, _c, _m = open_activity(quantity=2, union=member.org)
    client = app.test_client()
    headers = _token(client, "member")
    listed = {a["id"]: a for a in client.get("/api/v1/member-vouchers/activities", headers=headers).json["result"]}
    assert listed[activity.id]["run_status"] == "not_started" and listed[activity.id]["run_status_label"] == "未开始"
    assert listed[activity.id]["claimable"] is False and listed[activity.id]["reason"]["code"] == "not_started"
    early = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
    assert early.status_code == 409 and early.json["code"] == "not_started"
    from models.base import utcnow

    activity.start_at = utcnow()
    member.status = MembershipStatus.RETIRED
    ctx.commit()
    try:
        listed = {a["id"]: a for a in client.get("/api/v1/member-vouchers/activities", headers=headers).json["result"]}
        assert listed[activity.id]["run_status_label"] == "进行中"
        assert listed[activity.id]["reason"] == {"code": "not_active", "message": "会籍状态为「退休」，不能领取工会福利"}
        refused = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
        assert refused.status_code == 403 and refused.json["code"] == "not_active"
        member.status, member.cert_status = MembershipStatus.ACTIVE, CertStatus.REJECTED
        ctx.commit()
        refused = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
        assert refused.status_code == 403 and refused.json["code"] == "not_certified"
        assert ctx.scalar(select(Voucher.id).where(Voucher.member_id == member.id,
                                                   Voucher.activity_id == activity.id)) is None
    finally:
        member.status, member.cert_status = MembershipStatus.ACTIVE, CertStatus.VERIFIED
        ctx.commit()
    claimed = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
    assert claimed.status_code == 201 and claimed.json["result"]["expires_at_label"]


def _sms_code(ctx, phone):
    import re

    from models.outbox import SmsMessage

    ctx.expire_all()
    text = ctx.scalar(select(SmsMessage.text).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))
    return re.search(r"验证码为(\d{6})", text).group(1)


def test_a_member_registers_with_an_sms_code_then_certifies(app, ctx):
    from models.organizations import Org
    from seed.loader import DEMO_PASSWORD

    union = base_of(ctx, county(ctx, 1), 0)
    member = make_member(ctx, union, name="注新会")
    phone = "13" + str(700000000 + member.id)[-9:]
    client = app.test_client()
    regions = client.get("/api/v1/register/regions").json["result"]
    region = next(r for r in regions if r["name"] == union.parent.name)
    assert {ctx.get(Org, r["id"]).level for r in regions} == {"city", "county"}
    form = {"phone": phone, "password": DEMO_PASSWORD, "region_id": region["id"], "agree": True}
    missing = client.post("/api/v1/register/", json={**form, "code": "123456"})
    assert missing.status_code == 400 and missing.json["code"] == "code_missing"
    assert client.post("/api/v1/register/code", json={"phone": "12345"}).json["code"] == "phone_invalid"
    sent = client.post("/api/v1/register/code", json={"phone": phone})
    code = _sms_code(ctx, phone)
    assert sent.status_code == 200 and code not in sent.get_data(as_text=True)  # only the SMS carries it
    for change, expected in (({"agree": False}, "agreement_required"), ({"password": "short"}, "password_weak"),
                             ({"region_id": union.id}, "region_invalid"), ({"region_id": "x"}, "region_invalid"),
                             ({"code": "000000" if code != "000000" else "111111"}, "code_invalid")):
        refused = client.post("/api/v1/register/", json={**form, "code": code, **change})
        assert refused.status_code == 400 and refused.json["code"] == expected, (change, refused.json)
        assert "message" in refused.json and not refused.json["message"].isascii()
    done = client.post("/api/v1/register/", json={**form, "code": code})
    assert done.status_code == 201 and done.json["result"]["username"] == phone
    again = client.post("/api/v1/register/code", json={"phone": phone})
    assert again.status_code == 409 and again.json["code"] == "phone_registered"
    ctx.expire_all()
    account = ctx.scalar(select(AppUser).where(AppUser.username == phone))
    assert account.mobile == phone and account.org_id == region["id"] and account.member_id is None
    assert [r.name for r in account.roles] == ["会员"]
    # 用户注册-02 → 立即认证: log in with the phone, certify, and wait for the union's review
    headers = _token(client, phone)
    certified = client.post("/api/v1/me/certification", json={"name": "注新会", "id_number": member.id_number},
                            headers=headers)
    assert certified.status_code == 200 and certified.json["result"]["cert_status_label"] == "待审核"
    assert client.get("/api/v1/me/", headers=headers).json["result"]["org"] == union.name


def test_registration_and_certification_are_rate_limited(app, db_url):
    from app import create_app
    from tests.conftest import IsolatedClient, _config

    limited = create_app(_config(db_url, RATELIMIT_ENABLED=True, PUBLIC_RATE_LIMIT="2 per minute"))
    limited.test_client_class = IsolatedClient
    client = limited.test_client()
    codes = [client.post("/api/v1/register/code", json={"phone": "123"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    refused = client.post("/api/v1/register/", json={})
    assert refused.status_code in (400, 429)
    headers = _token(client, "member")
    answers = [client.post("/api/v1/me/certification", json={"name": "无此人", "id_number": "X"}, headers=headers)
               for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert answers[-1].json["code"] == "too_many_requests" and answers[-1].json["message"] == "请求过于频繁，请稍后再试"
