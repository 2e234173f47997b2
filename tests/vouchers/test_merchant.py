"""The merchant manager: only his merchant and coupons; redeeming by code, once."""
from sqlalchemy import select

from app.services import vouchers
from models.security import AppUser
from models.vouchers import Coupon, Merchant
from tests.vouchers.conftest import window


def _manager(ctx):
    return ctx.scalar(select(AppUser).where(AppUser.username == "merchant"))


def test_merchant_manager_sees_only_his_merchant_and_coupons(client_as, ctx):
    own = ctx.get(Merchant, _manager(ctx).merchant_id)
    other = Merchant(org_id=own.org_id, name="隔壁商家")
    ctx.add(other)
    ctx.flush()
    foreign_coupon = Coupon(merchant_id=other.id, org_id=own.org_id, title="隔壁的券", name="券", quantity=5,
                            valid_from=window()[0], valid_to=window()[1], face_value=vouchers.money(5))
    ctx.add(foreign_coupon)
    ctx.commit()
    client = client_as("merchant")
    listed = client.get("/merchantview/list/").get_data(as_text=True)
    assert own.name in listed and "隔壁商家" not in listed
    assert client.get(f"/merchantview/show/{other.id}").status_code == 404
    assert client.get(f"/couponview/edit/{foreign_coupon.id}").status_code == 404
    assert client.post(f"/couponview/edit/{foreign_coupon.id}", data={"title": "改"}).status_code == 404
    assert "隔壁的券" not in client.get("/couponview/list/").get_data(as_text=True)
    assert client.get("/memberview/list/").status_code == 403
    assert client.post("/merchantview/add", data={"name": "再开一家"}).status_code == 403
    form = client.get("/couponview/add").get_data(as_text=True)
    assert own.name in form and "隔壁商家" not in form


def test_redeem_by_code_once_with_preview(client_as, ctx, demo_claimed):
    claimed, merchant = demo_claimed()
    coupon = claimed.coupon
    client = client_as("merchant")
    html = client.post("/redeem/", data={"code": claimed.code.lower(), "step": "preview"}).get_data(as_text=True)
    assert "李**" in html and coupon.title in html and "确认核销" in html and "李核销" not in html
    html = client.post("/redeem/", data={"code": claimed.code, "step": "confirm"}).get_data(as_text=True)
    assert "核销成功" in html
    html = client.post("/redeem/", data={"code": claimed.code, "step": "confirm"}).get_data(as_text=True)
    assert "已核销" in html and merchant.name in html
    html = client.post("/redeem/", data={"code": claimed.code, "step": "preview"}).get_data(as_text=True)
    assert 'id="redeem-problem"' in html and "已核销" in html and "确认核销" not in html
    assert "券码无效" in client.post("/redeem/", data={"code": "ABCDEFG", "step": "preview"}).get_data(as_text=True)


def test_union_admins_and_auditors_cannot_redeem(client_as):
    for role in ("county_admin", "auditor"):
        assert client_as(role).post("/redeem/", data={"code": "X", "step": "confirm"}).status_code == 403
