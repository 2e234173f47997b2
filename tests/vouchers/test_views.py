"""Merchants and activities through the browser client, as each role."""
from datetime import timedelta

from sqlalchemy import func, select

from app.services import vouchers
from models.base import DISPLAY_TZ, utcnow
from models.vouchers import Activity, Coupon, Merchant, Voucher
from tests.factories import base_of, county
from tests.vouchers.conftest import window


def _when(hours):
    return (utcnow() + timedelta(hours=hours)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _merchant(ctx, union, name="视图测试商家", online=True):
    merchant = Merchant(org_id=union.id, name=name, online=online)
    ctx.add(merchant)
    ctx.flush()
    start, end = window()
    coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="满50减10", name="代金券", quantity=20,
                    valid_from=start, valid_to=end, face_value=vouchers.money(10), enabled=True)
    ctx.add(coupon)
    ctx.commit()
    return merchant, coupon


def test_merchant_crud_in_scope_and_foreign_404(client_as, ctx):
    union = base_of(ctx, county(ctx, 0))
    client = client_as("county_admin")
    html = client.post("/merchantview/add", data={"org": str(union.id), "name": "新商家", "type": "merchant",
                                                  "mobile": "12345"}).get_data(as_text=True)
    assert "手机号应为11位数字" in html
    client.post("/merchantview/add", data={"org": str(union.id), "name": "新商家", "type": "merchant",
                                           "mobile": "13800138000"})
    assert ctx.scalar(select(Merchant).where(Merchant.name == "新商家")).org_id == union.id
    foreign, _coupon = _merchant(ctx, base_of(ctx, county(ctx, 1)), "外区商家")
    assert client.get(f"/merchantview/show/{foreign.id}").status_code == 404
    assert client.post("/merchantview/action_post", data={"action": "online", "rowid": [foreign.id]}).status_code == 404
    assert "外区商家" not in client.get("/merchantview/list/").get_data(as_text=True)


def test_activity_review_flow_through_the_views(client_as, ctx):
    union = base_of(ctx, county(ctx, 0), 0)
    _merchant_row, coupon = _merchant(ctx, union)
    base = client_as("base_admin")
    response = base.post("/activityview/add", data={
        "org": str(union.id), "title": "周末领券", "claim_limit": "once", "claims_per_day": "1", "scope": "own",
        "start_at": _when(2), "end_at": _when(48), "content": "欢迎参加"})
    assert response.status_code == 302
    activity = ctx.scalar(select(Activity).where(Activity.title == "周末领券"))
    vouchers.add_prize(ctx, activity.id, coupon.id, 5)
    base.post("/activityview/flow/submit", data={"pk": [activity.id]})
    ctx.expire_all()
    assert ctx.get(Activity, activity.id).status == "pending"
    # the submitter's role cannot approve; editing and deleting are over
    assert base.post("/activityview/flow/approve", data={"pk": [activity.id]}).status_code == 403
    html = base.post(f"/activityview/edit/{activity.id}", data={
        "org": str(union.id), "title": "改标题", "claim_limit": "once", "claims_per_day": "1", "scope": "own",
        "start_at": _when(2), "end_at": _when(48)}, follow_redirects=True).get_data(as_text=True)
    assert "提交审核后不能再编辑" in html
    html = base.post(f"/activityview/delete/{activity.id}", follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in html
    county_admin = client_as("county_admin")
    county_admin.post("/activityview/flow/approve", data={"pk": [activity.id]})
    county_admin.post(f"/activityview/generate/{activity.id}")
    base.post("/activityview/flow/open", data={"pk": [activity.id]})
    ctx.expire_all()
    saved = ctx.get(Activity, activity.id)
    assert (saved.status, saved.run_status, saved.title) == ("approved", "open", "周末领券")
    assert ctx.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity.id)) == 5
    html = county_admin.get(f"/activityview/show/{activity.id}").get_data(as_text=True)
    assert "处理轨迹" in html and "提交审核" in html and "审核通过" in html and "开启" in html
    assert "报名人数" in html and "仅限一次" in html and "本工会" in html
    assert "合计" in county_admin.get("/activityview/list/").get_data(as_text=True)


def test_activity_start_must_be_later_than_now(client_as, ctx):
    union = base_of(ctx, county(ctx, 0), 0)
    html = client_as("base_admin").post("/activityview/add", data={
        "org": str(union.id), "title": "过去的活动", "claim_limit": "once", "claims_per_day": "1", "scope": "own",
        "start_at": _when(-2), "end_at": _when(5)}, follow_redirects=True).get_data(as_text=True)
    assert "开始时间须晚于当前时间" in html
    assert ctx.scalar(select(Activity).where(Activity.title == "过去的活动")) is None


def test_auditor_and_other_county_are_refused(client_as, ctx):
    union = base_of(ctx, county(ctx, 0), 0)
    activity = Activity(org_id=union.id, title="只读测试", start_at=utcnow() + timedelta(hours=3),
                        end_at=utcnow() + timedelta(days=2))
    ctx.add(activity)
    ctx.commit()
    auditor = client_as("auditor")
    assert auditor.get(f"/activityview/show/{activity.id}").status_code == 200
    for url, data in [("/activityview/flow/submit", {"pk": [activity.id]}), (f"/activityview/generate/{activity.id}", {}),
                      (f"/activityview/delete/{activity.id}", {}), ("/merchantview/add", {"name": "伪造"})]:
        assert auditor.post(url, data=data).status_code == 403, url
    other = client_as("county2_admin")
    assert other.get(f"/activityview/show/{activity.id}").status_code == 404
    assert other.post("/activityview/flow/approve", data={"pk": [activity.id]}).status_code == 404
    assert other.post(f"/activityview/generate/{activity.id}").status_code == 404


def test_editing_a_draft_keeps_its_times(client_as, ctx):
    import re

    union = base_of(ctx, county(ctx, 0), 0)
    start = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    activity = Activity(org_id=union.id, title="时间往返", start_at=start, end_at=start + timedelta(days=1))
    ctx.add(activity)
    ctx.commit()
    client = client_as("base_admin")
    html = client.get(f"/activityview/edit/{activity.id}").get_data(as_text=True)
    shown = re.search(r'name="start_at"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="start_at"', html)
    assert shown.group(1) == start.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
    assert "union-datetime" in html and "flatpickr.min.js" in html and "appbuilder_datetime" not in html
    client.post(f"/activityview/edit/{activity.id}", data={
        "org": str(union.id), "title": "时间往返改", "claim_limit": "once", "claims_per_day": "1", "scope": "own",
        "start_at": shown.group(1), "end_at": (start + timedelta(days=1)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")})
    ctx.expire_all()
    saved = ctx.get(Activity, activity.id)
    assert saved.title == "时间往返改" and saved.start_at == start and saved.end_at == start + timedelta(days=1)


def test_prizes_are_added_on_the_activity_page_within_stock_and_scope(client_as, ctx):
    union = base_of(ctx, county(ctx, 0), 0)
    _merchant_row, coupon = _merchant(ctx, union, "奖品商家")
    _other, foreign_coupon = _merchant(ctx, base_of(ctx, county(ctx, 1)), "外区奖品商家")
    activity = Activity(org_id=union.id, title="奖品测试", start_at=utcnow() + timedelta(hours=3),
                        end_at=utcnow() + timedelta(days=2))
    ctx.add(activity)
    ctx.commit()
    client = client_as("base_admin")
    html = client.get(f"/activityview/show/{activity.id}").get_data(as_text=True)
    assert "prize-form" in html and coupon.title in html and "外区奖品商家" not in html
    html = client.post(f"/activityview/prize/{activity.id}", data={"coupon_id": coupon.id, "quantity": 25},
                       follow_redirects=True).get_data(as_text=True)
    assert "优惠券剩余数量不足" in html
    client.post(f"/activityview/prize/{activity.id}", data={"coupon_id": coupon.id, "quantity": 8})
    html = client.post(f"/activityview/prize/{activity.id}", data={"coupon_id": foreign_coupon.id, "quantity": 1},
                       follow_redirects=True).get_data(as_text=True)
    assert "请选择管辖范围内的优惠券" in html
    ctx.expire_all()
    assert [(p.coupon_id, p.quantity) for p in ctx.get(Activity, activity.id).prizes] == [(coupon.id, 8)]
    assert client_as("auditor").post(f"/activityview/prize/{activity.id}",
                                     data={"coupon_id": coupon.id, "quantity": 1}).status_code == 403


def test_coupon_authorization_offers_online_merchants_by_typed_name(client_as, ctx):
    from models.vouchers import CouponAuthorization

    union = base_of(ctx, county(ctx, 0), 0)
    _owner, coupon = _merchant(ctx, union, "授权测试商家")
    partner, _c = _merchant(ctx, base_of(ctx, county(ctx, 1)), "授权伙伴超市")  # another district: still offered
    offline, _c2 = _merchant(ctx, union, "授权伙伴下线店", online=False)
    client = client_as("county_admin")
    html = client.get(f"/couponview/show/{coupon.id}").get_data(as_text=True)
    assert "authorize-form" in html and "authorize-person-form" in html and "授权伙伴" not in html  # no option lists
    assert client.get(f"/couponview/partners/{coupon.id}?q=授").json == []  # two characters at least
    found = client.get(f"/couponview/partners/{coupon.id}?q=授权伙伴").json
    assert [r["id"] for r in found] == [str(partner.id)] and "（" in found[0]["text"]
    client.post(f"/couponview/authorize/{coupon.id}", data={"merchant_id": partner.id})
    client.post(f"/couponview/authorize/{coupon.id}", data={"merchant_id": partner.id})
    html = client.post(f"/couponview/authorize/{coupon.id}", data={"merchant_id": offline.id},
                       follow_redirects=True).get_data(as_text=True)
    assert "已下线，不能授权核销" in html
    assert client.get(f"/couponview/partners/{coupon.id}?q=授权伙伴").json == []  # already authorized
    rows = ctx.scalars(select(CouponAuthorization.merchant_id).where(CouponAuthorization.coupon_id == coupon.id)).all()
    assert rows == [partner.id]
    assert client_as("auditor").post(f"/couponview/authorize/{coupon.id}", data={"merchant_id": partner.id}).status_code == 403
    assert client_as("auditor").get(f"/couponview/partners/{coupon.id}?q=授权伙伴").status_code == 403
    assert client_as("county2_admin").get(f"/couponview/partners/{coupon.id}?q=授权伙伴").status_code == 404
