"""The scanner API of a merchant: verify, redeem once, JSON refusals with stable codes, OpenAPI."""
from app.services import vouchers
from models.vouchers import Coupon, Merchant, Voucher, VoucherStatus
from tests.test_api import _token
from tests.vouchers.conftest import window

API = "/api/v1/merchant-vouchers"


def test_verify_then_redeem_once(app, ctx, demo_claimed):
    voucher, merchant = demo_claimed("赵扫码")
    client = app.test_client()
    headers = _token(client, "merchant")
    seen = client.get(f"{API}/{voucher.code.lower()}", headers=headers)
    assert seen.status_code == 200
    assert seen.json["result"]["member"] == "赵**" and seen.json["result"]["redeemable"] is True
    assert seen.json["result"]["face_value"] == "20.00" and "赵扫码" not in seen.get_data(as_text=True)
    done = client.post(f"{API}/{voucher.code}/redeem", headers=headers)
    assert done.status_code == 200 and done.json["result"]["status_label"] == "已核销"
    again = client.post(f"{API}/{voucher.code}/redeem", headers=headers)
    assert again.status_code == 409 and again.json["code"] == "already_redeemed"
    assert again.json["message"].startswith("已核销：") and merchant.name in again.json["message"]
    after = client.get(f"{API}/{voucher.code}", headers=headers).json["result"]
    assert after["redeemable"] is False and after["problem"]["code"] == "already_redeemed"


def test_foreign_coupon_and_bad_code_are_refused(app, ctx, demo_claimed):
    voucher, merchant = demo_claimed()
    other = Merchant(org_id=merchant.org_id, name="隔壁扫码商家", online=True)
    ctx.add(other)
    ctx.flush()
    start, end = window(3)
    ctx.add(Coupon(merchant_id=other.id, org_id=other.org_id, title="隔壁券", name="券", quantity=1,
                   valid_from=start, valid_to=end, face_value=vouchers.money(1)))
    ctx.commit()
    # the demo merchant's voucher, scanned by a manager of another merchant
    from tests.factories import make_user

    manager = make_user(ctx, "商家管理员", merchant.org, merchant_id=other.id)
    client = app.test_client()
    headers = _token(client, manager.username)
    for response in (client.get(f"{API}/{voucher.code}", headers=headers),
                     client.post(f"{API}/{voucher.code}/redeem", headers=headers)):
        assert response.status_code == 403
        assert response.json == {"code": "not_authorized", "message": "本商家无权核销该券"}
    ctx.expire_all()
    assert ctx.get(Voucher, voucher.id).status == VoucherStatus.CLAIMED
    missing = client.get(f"{API}/ABCDEFGHJK", headers=headers)
    assert missing.status_code == 404 and missing.json["code"] == "voucher_not_found"


def test_other_roles_and_anonymous_get_json_refusals(app, demo_claimed):
    voucher, _merchant = demo_claimed()
    client = app.test_client()
    anonymous = client.post(f"{API}/{voucher.code}/redeem")
    assert anonymous.status_code == 401 and anonymous.json == {"code": "unauthenticated", "message": "请先登录"}
    for role in ("member", "county_admin", "auditor"):
        refused = client.post(f"{API}/{voucher.code}/redeem", headers=_token(client, role))
        assert refused.status_code == 403 and refused.json["code"] == "forbidden", role
    bad_token = client.get(f"{API}/{voucher.code}", headers={"Authorization": "Bearer not-a-token"})
    assert bad_token.status_code == 401 and bad_token.json["code"] == "invalid_token"


def test_api_errors_are_json_never_html(app, monkeypatch, demo_claimed):
    voucher, _merchant = demo_claimed()
    client = app.test_client()
    headers = _token(client, "merchant")
    assert client.get("/api/v1/no-such-thing/", headers=headers).json["code"] == "not_found"
    wrong = client.delete(f"{API}/{voucher.code}", headers=headers)
    assert wrong.status_code == 405 and wrong.json["code"] == "method_not_allowed"

    def broken(*_args, **_kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(vouchers, "preview_voucher", broken)
    crashed = client.get(f"{API}/{voucher.code}", headers=headers)
    assert crashed.status_code == 500 and crashed.mimetype == "application/json"
    assert crashed.json == {"code": "internal_error", "message": "服务器内部错误，请稍后重试"}
    assert "exploded" not in crashed.get_data(as_text=True)


def test_member_and_merchant_endpoints_in_openapi_and_swagger(app, client_as):
    client = app.test_client()
    spec = client.get("/api/v1/_openapi", headers=_token(client, "merchant")).json
    assert {"/api/v1/merchant-vouchers/{code}", "/api/v1/merchant-vouchers/{code}/redeem",
            "/api/v1/member-vouchers/activities/{activity_id}/claim", "/api/v1/member-vouchers/mine"} <= set(spec["paths"])
    redeem = spec["paths"]["/api/v1/merchant-vouchers/{code}/redeem"]["post"]
    assert {"200", "403", "404", "409"} <= set(redeem["responses"])
    assert redeem["parameters"] == [{"$ref": "#/components/parameters/voucher_code"}]
    assert spec["components"]["parameters"]["voucher_code"]["in"] == "path"
    page = client_as("merchant").get("/swagger/v1")
    assert page.status_code == 200 and "swagger" in page.get_data(as_text=True).lower()
