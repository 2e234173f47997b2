"""The member voucher API with JWT: visible activities, claims with JSON refusals, own vouchers."""
from sqlalchemy import select

from models.base import utcnow
from models.security import AppUser
from models.vouchers import Voucher
from tests.test_api import _token


def _open_now(ctx, activity):
    activity.start_at = utcnow()
    ctx.commit()


def test_member_lists_claims_and_sees_own_vouchers(app, ctx, open_activity):
    member_user = ctx.scalar(select(AppUser).where(AppUser.username == "member"))
    from models.members import Member

    union = ctx.get(Member, member_user.member_id).org
    activity, _coupon, _merchant = open_activity(quantity=2, union=union)
    _open_now(ctx, activity)
    client = app.test_client()
    headers = _token(client, "member")
    listed = client.get("/api/v1/member-vouchers/activities", headers=headers).json["result"]
    assert activity.id in [a["id"] for a in listed]
    first = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
    assert first.status_code == 201 and first.json["result"]["status_label"] == "未使用"
    again = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
    assert again.status_code == 409 and again.json["code"] == "limit_reached" and "已领取过" in again.json["message"]
    mine = client.get("/api/v1/member-vouchers/mine", headers=headers).json["result"]
    assert mine[0]["code"] == first.json["result"]["code"] and mine[0]["face_value"] == "20.00"


def test_activity_of_another_union_is_invisible_and_404(app, ctx, open_activity):
    from tests.factories import base_of, county

    activity, _c, _m = open_activity(quantity=1, union=base_of(ctx, county(ctx, 2), 3))
    _open_now(ctx, activity)
    client = app.test_client()
    headers = _token(client, "member")
    listed = client.get("/api/v1/member-vouchers/activities", headers=headers).json["result"]
    assert activity.id not in [a["id"] for a in listed]
    response = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers)
    assert response.status_code == 404 and response.json["code"] == "not_found"


def test_non_members_are_refused(app):
    client = app.test_client()
    assert client.get("/api/v1/member-vouchers/mine").status_code == 401
    assert client.get("/api/v1/member-vouchers/mine", headers=_token(client, "county_admin")).status_code == 403
    spec = client.get("/api/v1/_openapi", headers=_token(client, "county_admin")).json
    assert "/api/v1/member-vouchers/activities/{activity_id}/claim" in spec["paths"]


def test_qr_image_only_for_own_vouchers(app, ctx, open_activity):
    from models.members import Member

    member_user = ctx.scalar(select(AppUser).where(AppUser.username == "member"))
    activity, _coupon, _merchant = open_activity(quantity=2, limit="daily", per_day=5,
                                                 union=ctx.get(Member, member_user.member_id).org)
    _open_now(ctx, activity)
    client = app.test_client()
    headers = _token(client, "member")
    code = client.post(f"/api/v1/member-vouchers/activities/{activity.id}/claim", headers=headers).json["result"]["code"]
    image = client.get(f"/api/v1/member-vouchers/qr/{code}", headers=headers)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data[:4] == b"\x89PNG"
    unclaimed = ctx.scalar(select(Voucher.code).where(Voucher.activity_id == activity.id, Voucher.member_id.is_(None)))
    refused = client.get(f"/api/v1/member-vouchers/qr/{unclaimed}", headers=headers)
    assert refused.status_code == 404 and refused.json["code"] == "not_found"
