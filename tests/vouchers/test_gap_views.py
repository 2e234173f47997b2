"""Issue 8's voucher items through the views, as each role: the merchant's own profile and its 授权,
the attacker's coupon edit, 财务's 结算汇总, the 活动审核 queue, 生成券码 confirmed, hostile prize
quantities, the activity list's 未开始 / 商家 filter / 审核时间 / 处理轨迹, no ``None`` on the voucher list."""
from datetime import timedelta

from sqlalchemy import func, select

from app.services import claims, vouchers
from models.base import DISPLAY_TZ, utcnow
from models.security import AppUser
from models.vouchers import Activity, Coupon, CouponAuthorization, Merchant, Voucher
from tests.factories import base_of, county, make_user
from tests.vouchers.conftest import claimer, later, window


def _demo(ctx):
    manager = ctx.scalar(select(AppUser).where(AppUser.username == "merchant"))
    merchant = ctx.get(Merchant, manager.merchant_id)
    return merchant, ctx.scalar(select(Coupon).where(Coupon.merchant_id == merchant.id).order_by(Coupon.id))


def test_merchant_manager_saves_its_own_profile_but_not_its_union(client_as, ctx):
    merchant, _coupon = _demo(ctx)
    union_id, other_union = merchant.org_id, base_of(ctx, county(ctx, 1), 0)
    client = client_as("merchant")
    form = client.get(f"/merchantview/edit/{merchant.id}").get_data(as_text=True)
    assert 'name="name"' in form and 'name="org"' not in form and 'name="type"' not in form
    response = client.post(f"/merchantview/edit/{merchant.id}", data={
        "name": merchant.name, "contact": "李经理", "mobile": "13912340000", "address": "上海市黄浦区新地址9号",
        "intro": "职工超市", "org": str(other_union.id), "type": "union", "online": "y"}, follow_redirects=True)
    assert response.status_code == 200 and "alert-danger" not in response.get_data(as_text=True)
    ctx.expire_all()
    saved = ctx.get(Merchant, merchant.id)
    assert saved.address == "上海市黄浦区新地址9号"
    assert (saved.org_id, saved.type, saved.online) == (union_id, "merchant", True)  # the union's columns kept
    other = Merchant(org_id=union_id, name="别家档案")
    ctx.add(other)
    ctx.commit()
    assert client.get(f"/merchantview/edit/{other.id}").status_code == 404
    assert client.post("/merchantview/action_post", data={"action": "offline", "rowid": [merchant.id]}).status_code == 403
    # a union admin still sees and sets the managing union
    assert 'name="org"' in client_as("county_admin").get(f"/merchantview/edit/{merchant.id}").get_data(as_text=True)


def test_merchant_manager_authorizes_its_coupon_to_a_partner_and_a_person(client_as, ctx):
    merchant, coupon = _demo(ctx)
    partner = Merchant(org_id=base_of(ctx, county(ctx, 2), 1).id, name="远方伙伴烘焙", online=True)
    ctx.add(partner)
    ctx.commit()
    person = make_user(ctx, "商家管理员", None, username=f"redeemer{partner.id}")
    client = client_as("merchant")
    html = client.get(f"/couponview/show/{coupon.id}").get_data(as_text=True)
    assert "authorize-form" in html and "partner-lookup" in html
    assert [r["text"] for r in client.get(f"/couponview/partners/{coupon.id}?q=远方伙伴").json] == [
        f"远方伙伴烘焙（{partner.org.name}）"]
    assert client.get(f"/couponview/partners/{coupon.id}?q={merchant.name}").json == []  # not its own
    html = client.post(f"/couponview/authorize/{coupon.id}", data={"merchant_id": partner.id},
                       follow_redirects=True).get_data(as_text=True)
    assert "已授权「远方伙伴烘焙」核销此券" in html
    html = client.post(f"/couponview/authorize/{coupon.id}", data={"username": "county_admin"},
                       follow_redirects=True).get_data(as_text=True)
    assert "未找到可核销的账户" in html  # a union admin's account cannot redeem
    html = client.post(f"/couponview/authorize/{coupon.id}", data={"username": person.username},
                       follow_redirects=True).get_data(as_text=True)
    assert f"已授权个人账户「{person.username}」" in html and "个人" in html
    holders = ctx.execute(select(CouponAuthorization.merchant_id, CouponAuthorization.user_id)
                          .where(CouponAuthorization.coupon_id == coupon.id)).all()
    assert {(partner.id, None), (None, person.id)} <= set(holders)
    row = ctx.scalar(select(CouponAuthorization.id).where(CouponAuthorization.coupon_id == coupon.id,
                                                          CouponAuthorization.user_id == person.id))
    client.post(f"/couponview/revoke/{coupon.id}", data={"authorization_id": row})
    assert ctx.scalar(select(func.count()).where(CouponAuthorization.id == row)) == 0


def test_merchant_posting_a_new_face_value_changes_nothing_settlement_sums(client_as, ctx, demo_claimed):
    voucher, merchant = demo_claimed("钱结算")
    vouchers.redeem_voucher(ctx, voucher.code, redeemer=vouchers.Redeemer(merchant.id, None))
    coupon = voucher.coupon
    before = vouchers.settlement_summary(ctx, Voucher.coupon_id == coupon.id)
    start, end = window(90, start_days=-30)
    client = client_as("merchant")
    html = client.post(f"/couponview/edit/{coupon.id}", data={
        "merchant": str(merchant.id), "type": "union_activity", "title": coupon.title, "name": coupon.name,
        "quantity": str(coupon.quantity), "valid_from": start.strftime("%Y-%m-%d %H:%M"),
        "valid_to": end.strftime("%Y-%m-%d %H:%M"), "face_value": "999.00", "enabled": "y"},
        follow_redirects=True).get_data(as_text=True)
    assert "该券已用于提交审核或审核通过的活动" in html and "面值" in html
    ctx.expire_all()
    assert ctx.get(Coupon, coupon.id).face_value == vouchers.money(20)
    assert vouchers.settlement_summary(ctx, Voucher.coupon_id == coupon.id) == before
    assert set(ctx.scalars(select(Voucher.face_value).where(Voucher.coupon_id == coupon.id))) == {vouchers.money(20)}


def test_finance_reaches_settlement_from_the_voucher_list(client_as, ctx, open_activity):
    activity, _coupon, merchant = open_activity(quantity=3)
    union = base_of(ctx, county(ctx), 0)
    for _ in range(2):
        code = claims.claim_voucher(ctx, activity.id, claimer(ctx, union).id, now=later()).code
        vouchers.redeem_voucher(ctx, code, redeemer=vouchers.Redeemer(merchant.id, None), now=later())
    finance = client_as("finance")
    listed = finance.get(f"/voucherview/list/?_flt_0_activity={activity.id}").get_data(as_text=True)
    assert 'id="settle-link"' in listed and f"_flt_0_activity={activity.id}" in listed
    assert "None" not in listed and "核销商家" in listed
    page = finance.get(f"/voucherview/settle/?_flt_0_activity={activity.id}").get_data(as_text=True)
    assert activity.title in page and merchant.name in page and "40.00" in page and 'id="settlement-download"' in page
    assert finance.get(f"/voucherview/settle/?_flt_0_activity={activity.id}&format=xlsx").mimetype.endswith("sheet")
    assert finance.get("/activityview/list/").status_code == 200
    assert finance.post(f"/couponview/edit/{_coupon.id}", data={"title": "改"}).status_code == 403
    assert finance.post(f"/activityview/generate/{activity.id}").status_code == 403


def _pending_activity(ctx, union, title):
    merchant = Merchant(org_id=union.id, name=f"{title}商家", online=True)
    ctx.add(merchant)
    ctx.flush()
    start, end = window()
    coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title=f"{title}券", name="券", quantity=9,
                    valid_from=start, valid_to=end, face_value=vouchers.money(8), enabled=True)
    activity = Activity(org_id=union.id, title=title, start_at=utcnow() + timedelta(days=1),
                        end_at=utcnow() + timedelta(days=3))
    ctx.add_all([coupon, activity])
    ctx.commit()
    vouchers.add_prize(ctx, activity.id, coupon.id, 3)
    vouchers.review_activity(ctx, activity.id, "submit", actor=make_user(ctx, "基层工会管理员", union))
    return activity, merchant


def test_reviewers_work_the_activity_review_queue(client_as, ctx):
    ours, _m = _pending_activity(ctx, base_of(ctx, county(ctx, 0), 1), "待审队列甲")
    theirs, _m2 = _pending_activity(ctx, base_of(ctx, county(ctx, 1), 1), "待审队列乙")
    reviewer = client_as("reviewer")
    queue = reviewer.get("/activityreviewview/list/").get_data(as_text=True)
    assert "待审队列甲" in queue and "待审队列乙" not in queue and "处理轨迹" in queue
    assert "新春职工领券" not in queue  # approved activities are not in the queue
    assert reviewer.get(f"/activityreviewview/show/{theirs.id}").status_code == 404
    show = reviewer.get(f"/activityreviewview/show/{ours.id}").get_data(as_text=True)
    assert "审核通过" in show and "驳回" in show and 'id="trail"' in show and "待审队列甲券" in show
    done = reviewer.post("/activityreviewview/flow/approve", data={"pk": [ours.id]}, follow_redirects=True)
    assert "已完成 1 条" in done.get_data(as_text=True) and "待审队列甲" not in done.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(Activity, ours.id).status == "approved" and ctx.get(Activity, ours.id).reviewed_at is not None
    assert reviewer.post("/activityreviewview/flow/approve", data={"pk": [theirs.id]}).status_code == 404
    assert client_as("base_admin").get("/activityreviewview/list/").status_code == 403
    assert client_as("auditor").post("/activityreviewview/flow/approve", data={"pk": [theirs.id]}).status_code == 403


def test_activity_list_shows_phase_review_time_trail_and_filters_by_merchant(client_as, ctx, open_activity):
    activity, _coupon, _merchant = open_activity(quantity=1)  # opened, starts in five minutes
    _other, other_merchant = _pending_activity(ctx, base_of(ctx, county(ctx), 0), "商家筛选对照")
    client = client_as("county_admin")
    html = client.get("/activityview/list/").get_data(as_text=True)
    row = next(r for r in html.split("<tr") if f"/activityview/show/{activity.id}#trail" in r)
    assert "未开始" in row and "进行中" not in row and "处理轨迹" in row
    assert "审核时间" in html and activity.reviewed_at.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M") in row
    filtered = client.get(f"/activityview/list/?_flt_0_merchants={other_merchant.id}").get_data(as_text=True)
    assert "商家筛选对照" in filtered and activity.title not in filtered
    assert client.get(f"/activityview/lookup/merchants?q={other_merchant.name}").json[0]["text"] == other_merchant.name
    assert client.get("/voucherview/lookup/activity?q=新春").json[0]["text"] == "新春职工领券"


def test_generating_codes_is_confirmed_with_the_count(client_as, ctx):
    activity, _m = _pending_activity(ctx, base_of(ctx, county(ctx, 0), 2), "确认生成")
    vouchers.review_activity(ctx, activity.id, "approve", actor=make_user(ctx, "业务审核员", county(ctx, 0)))
    client = client_as("county_admin")
    show = client.get(f"/activityview/show/{activity.id}").get_data(as_text=True)
    assert 'id="generate-link"' in show and 'id="generate-form"' not in show
    confirm = client.get(f"/activityview/generate/{activity.id}").get_data(as_text=True)
    assert "将为活动「确认生成」生成" in confirm and 'id="generate-count">3<' in confirm
    assert ctx.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity.id)) == 0
    done = client.post(f"/activityview/generate/{activity.id}", follow_redirects=True).get_data(as_text=True)
    assert "已生成 3 个券码" in done
    assert ctx.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity.id)) == 3


def test_hostile_prize_quantities_get_chinese_messages(client_as, ctx):
    union = base_of(ctx, county(ctx, 0), 0)
    merchant = Merchant(org_id=union.id, name="奖品攻击商家", online=True)
    ctx.add(merchant)
    ctx.flush()
    start, end = window()
    coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="攻击券", name="券", quantity=5,
                    valid_from=start, valid_to=end, face_value=vouchers.money(1), enabled=True)
    activity = Activity(org_id=union.id, title="奖品攻击", start_at=utcnow() + timedelta(days=1),
                        end_at=utcnow() + timedelta(days=2))
    ctx.add_all([coupon, activity])
    ctx.commit()
    client = client_as("base_admin")
    for quantity, message in (("99999999999", "剩余数量不足"), ("99999999999999999999", "正整数"),
                              ("-5", "大于0"), ("abc", "正整数"), ("", "正整数"), ("1.5", "正整数")):
        response = client.post(f"/activityview/prize/{activity.id}", data={"coupon_id": coupon.id, "quantity": quantity},
                               follow_redirects=True)
        assert response.status_code == 200 and message in response.get_data(as_text=True), quantity
    assert client.post(f"/activityview/prize/{activity.id}", data={"coupon_id": "9" * 20, "quantity": "1"},
                       follow_redirects=True).status_code == 200
    assert client_as("county_admin").get("/activityview/generate/99999999999999").status_code == 404
    ctx.expire_all()
    assert ctx.get(Activity, activity.id).prizes == [] and ctx.get(Coupon, coupon.id).allocated == 0


def test_coupon_list_shows_its_type_and_window(client_as, ctx):
    _merchant, coupon = _demo(ctx)
    html = client_as("county_admin").get("/couponview/list/").get_data(as_text=True)
    assert "工会活动券" in html and "union_activity" not in html
    assert coupon.valid_to.astimezone().strftime("%Y") in html
