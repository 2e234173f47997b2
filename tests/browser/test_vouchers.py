"""普惠活动 in Chromium, clicking the real widgets (seed 003 steps 1-6): the date-time picker, a
merchant manager's profile, coupon and 授权, and one activity from creation to 结算汇总 as finance."""
import io
import re
from datetime import timedelta

from python_calamine import CalamineWorkbook
from playwright.sync_api import expect
from sqlalchemy import select

from models.base import DISPLAY_TZ, utcnow
from models.security import AppUser
from models.vouchers import Activity, Coupon, CouponAuthorization, Merchant, Voucher
from seed.loader import DEMO_PASSWORD
from tests.browser.pages import (
    assert_clean,
    choose_in_lookup,
    confirm_flow_step,
    flashes,
    login,
    pick_datetime,
    type_datetime,
)
from tests.factories import base_of, county

SHOTS = "/tmp/h4-{}.png"


def _local(days, hour, minute=0):
    """A naive Beijing wall-clock time ``days`` from today, as a clerk picks it."""
    return (utcnow().astimezone(DISPLAY_TZ) + timedelta(days=days)).replace(hour=hour, minute=minute, second=0,
                                                                           microsecond=0, tzinfo=None)


def _saved(page):
    page.click("#model_form button[type=submit], form button[type=submit]")
    page.wait_for_load_state()


def test_activity_times_are_picked_or_typed_and_kept(live_server, page, ctx):
    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/activityview/add")
    page.fill("input[name=title]", "选时间的活动")
    start = _local(40, 9, 30)
    pick_datetime(page, "start_at", start)
    assert page.locator(".flatpickr-weekday").first.inner_text().strip().startswith("周")  # a Chinese calendar
    type_datetime(page, "end_at", f"{start.year + 1}-02-30 18:00")  # no such day: kept as typed, refused
    expect(page.locator("input[name=end_at]")).to_have_value(f"{start.year + 1}-02-30 18:00")  # put back if the picker clears it
    _saved(page)
    assert "请输入有效的日期和时间" in page.inner_text("body")
    assert page.input_value("input[name=start_at]") == start.strftime("%Y-%m-%d %H:%M")
    type_datetime(page, "end_at", f"{start.year + 1}-12-30 18:00:00")  # typed with seconds: kept on blur
    assert page.input_value("input[name=end_at]") == f"{start.year + 1}-12-30 18:00"
    page.screenshot(path=SHOTS.format("activity-form"), full_page=True)
    _saved(page)
    assert_clean(page)
    ctx.expire_all()
    saved = ctx.scalar(select(Activity).where(Activity.title == "选时间的活动"))
    assert saved.start_at.astimezone(DISPLAY_TZ).replace(tzinfo=None) == start
    assert saved.end_at.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M") == f"{start.year + 1}-12-30 18:00"


def test_merchant_authorizes_coupon_to_partner(live_server, page, ctx):
    manager = ctx.scalar(select(AppUser).where(AppUser.username == "merchant"))
    merchant = ctx.get(Merchant, manager.merchant_id)
    partner = Merchant(org_id=base_of(ctx, county(ctx, 1), 2).id, name="徐汇职工蛋糕坊", online=True)
    ctx.add(partner)
    ctx.commit()
    login(page, live_server, "merchant")
    # 商家信息: its own profile, without the managing union
    page.goto(f"{live_server}/merchantview/edit/{merchant.id}")
    assert page.locator("select[name=org]").count() == 0
    page.fill("textarea[name=intro], input[name=intro]", "黄浦区职工福利定点超市")
    page.screenshot(path=SHOTS.format("merchant-profile"), full_page=True)
    _saved(page)
    assert flashes(page, "success") and not flashes(page, "danger")
    assert_clean(page)
    # a 工会活动券 with its redemption window picked in the calendar
    page.goto(f"{live_server}/couponview/add")
    assert page.locator("select[name=type] option:checked").inner_text() == "工会活动券"
    page.fill("input[name=title]", "端午节福利券")
    page.fill("input[name=name]", "端午粽子礼盒")
    page.fill("input[name=quantity]", "300")
    pick_datetime(page, "valid_from", _local(1, 0, 0))
    pick_datetime(page, "valid_to", _local(20, 15, 0))
    page.fill("input[name=face_value]", "50")
    page.check("input[name=enabled]")
    page.screenshot(path=SHOTS.format("coupon-form"), full_page=True)
    _saved(page)
    assert not flashes(page, "danger"), flashes(page, "danger")
    assert_clean(page)
    ctx.expire_all()
    coupon = ctx.scalar(select(Coupon).where(Coupon.title == "端午节福利券"))
    assert coupon.merchant_id == merchant.id and str(coupon.face_value) == "50.00"
    assert coupon.valid_to.astimezone(DISPLAY_TZ).replace(tzinfo=None) == _local(20, 15, 0)
    # 授权: found by typing part of the partner's name
    page.goto(f"{live_server}/couponview/show/{coupon.id}")
    choose_in_lookup(page, "#partner-lookup", "蛋糕坊", "徐汇职工蛋糕坊")
    page.click("#authorize-form button[type=submit]")
    page.wait_for_load_state()
    assert any("已授权「徐汇职工蛋糕坊」" in f for f in flashes(page, "success"))
    assert "徐汇职工蛋糕坊" in page.inner_text("#authorizations")
    assert_clean(page)
    page.screenshot(path=SHOTS.format("coupon-authorized"), full_page=True)
    assert ctx.scalar(select(CouponAuthorization.merchant_id).where(CouponAuthorization.coupon_id == coupon.id)) \
        == partner.id


def _add_filter(page, column_label):
    page.click("#accordion1 a.accordion-toggle")  # the 搜索 panel opens
    page.click("#filter_form .dropdown-toggle")
    page.click(f"#filter_form a.filter:has-text('{column_label}')")


def test_welfare_activity_from_creation_to_settlement(live_server, page, ctx):
    demo_coupon = ctx.scalar(select(Coupon).where(Coupon.title == "满100减20"))
    # 1. a base-union admin creates the activity (dates in the picker) and adds a prize
    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/activityview/add")
    page.fill("input[name=title]", "端午职工领券")
    pick_datetime(page, "start_at", _local(1, 9, 0))
    pick_datetime(page, "end_at", _local(15, 18, 0))
    page.fill("textarea[name=content]", "每位会员限领一张")
    _saved(page)
    assert_clean(page)
    activity = ctx.scalar(select(Activity).where(Activity.title == "端午职工领券"))
    page.goto(f"{live_server}/activityview/show/{activity.id}")
    page.select_option("#prize-form select[name=coupon_id]", str(demo_coupon.id))
    page.fill("#prize-form input[name=quantity]", "3")
    page.click("#prize-form button[type=submit]")
    page.wait_for_load_state()
    assert any("已添加奖品" in f for f in flashes(page, "success"))
    assert_clean(page)
    # 2. submitted for review
    confirm_flow_step(page, "提交审核")
    assert flashes(page, "success")
    assert_clean(page)
    # 3. a reviewer approves it in the 活动审核 queue, after reading its trail
    login(page, live_server, "reviewer")
    page.goto(f"{live_server}/activityreviewview/list/")
    row = page.locator("table tr", has_text="端午职工领券")
    assert "待审核" in row.inner_text()
    page.screenshot(path=SHOTS.format("review-queue"), full_page=True)
    assert_clean(page)
    row.locator("a.trail-link").click()
    page.wait_for_selector("#trail")
    assert "提交审核" in page.inner_text("#trail") and "满100减20" in page.inner_text("#prizes")
    confirm_flow_step(page, "审核通过")
    assert flashes(page, "success")
    assert "端午职工领券" not in page.inner_text("body")  # it left the queue
    assert_clean(page)
    # 4. the base union opens it and generates the codes, confirming how many
    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/activityview/show/{activity.id}")
    confirm_flow_step(page, "开启")
    assert_clean(page)
    page.goto(f"{live_server}/activityview/list/")
    row = page.locator("table tr", has_text="端午职工领券")
    assert "未开始" in row.inner_text() and "审核通过" in row.inner_text()  # opened, before its start
    page.screenshot(path=SHOTS.format("activity-list"), full_page=True)
    page.goto(f"{live_server}/activityview/show/{activity.id}")
    page.click("#generate-link")
    assert "将为活动「端午职工领券」生成 3 个券码" in page.inner_text("#generate-question")
    page.screenshot(path=SHOTS.format("generate-confirm"), full_page=True)
    page.click("#generate-form button[type=submit]")
    page.wait_for_load_state()
    assert "已生成 3 个券码" in " ".join(flashes(page, "success"))
    assert_clean(page)
    # 5. the start time comes; a member claims in the app (JWT API)
    ctx.expire_all()
    ctx.get(Activity, activity.id).start_at = utcnow() - timedelta(minutes=1)
    ctx.commit()
    api = page.context.request
    token = api.post(f"{live_server}/api/v1/security/login", data={
        "username": "member", "password": DEMO_PASSWORD, "provider": "db", "refresh": False}).json()["access_token"]
    claimed = api.post(f"{live_server}/api/v1/member-vouchers/activities/{activity.id}/claim",
                       headers={"Authorization": f"Bearer {token}"})
    assert claimed.status == 201, claimed.text()
    code = claimed.json()["result"]["code"]
    # 6. the merchant redeems it on 券码核销, typing the code
    login(page, live_server, "merchant")
    page.goto(f"{live_server}/redeem/")
    page.fill("#redeem-form input[name=code]", code.lower())
    page.click("#redeem-form button[type=submit]")
    page.wait_for_selector("#redeem-preview")
    assert "满100减20" in page.inner_text("#redeem-preview") and "核销期限" in page.inner_text("#redeem-preview")
    page.screenshot(path=SHOTS.format("redeem-preview"), full_page=True)
    assert_clean(page)
    page.click("#confirm-form button[type=submit]")
    page.wait_for_load_state()
    assert any("核销成功" in f for f in flashes(page, "success"))
    assert_clean(page)
    # 7. finance filters the voucher list by the activity and downloads 结算汇总
    login(page, live_server, "finance")
    page.goto(f"{live_server}/voucherview/list/")
    _add_filter(page, "活动")
    choose_in_lookup(page, "#filter_form select.union-lookup", "端午", "端午职工领券")
    page.click("#filter_form button[type=submit]")
    page.wait_for_load_state()
    page.screenshot(path=SHOTS.format("voucher-list"), full_page=True)
    listed = page.locator("table:has(th:has-text('券码'))").inner_text()
    assert listed.count("已核销") == 1 and "黄浦职工超市" in listed and "None" not in listed
    page.screenshot(path=SHOTS.format("voucher-list"), full_page=True)
    assert_clean(page)
    page.click("#settle-link")
    page.wait_for_selector("#settlement")
    assert re.search(r"端午职工领券\s+黄浦职工超市\s+1\s+20\.00", page.inner_text("#settlement"))
    assert re.search(r"合计\s+1\s+20\.00", page.inner_text("#settlement-total"))
    page.screenshot(path=SHOTS.format("settlement"), full_page=True)
    assert_clean(page)
    with page.expect_download() as download:
        page.click("#settlement-download")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(open(download.value.path(), "rb").read())) \
        .get_sheet_by_index(0).to_python()
    assert rows[0] == ["活动", "核销商家", "核销张数", "面值合计（元）"]
    assert rows[1] == ["端午职工领券", "黄浦职工超市", 1, 20] and rows[-1] == ["合计", "", 1, 20]
    ctx.expire_all()
    assert ctx.scalar(select(Voucher.redeemed_merchant_id).where(Voucher.code == code)) == demo_coupon.merchant_id
