"""Playwright in Debian's Chromium: a list filter picked by typing (views/lookup.py) filters the list
and shows its choice again on the filtered page."""
from sqlalchemy import func, select

from models.vouchers import Activity, Voucher
from tests.browser.pages import login


def test_county_admin_filters_vouchers_by_activity_typed_in(live_server, page, ctx):
    activity = ctx.scalar(select(Activity).where(Activity.vouchers_generated.is_(True)).order_by(Activity.id))
    count = ctx.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity.id))
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/voucherview/list/")
    page.click("text=搜索")
    page.click("text=添加过滤条件")
    page.click(".dropdown-menu a:text-is('活动')")
    page.click("#filter_form select.union-lookup + .select2-container")
    page.locator(".select2-container--open .select2-search__field").press_sequentially(activity.title[:2])
    page.click(f".select2-results__option:has-text('{activity.title}')")
    page.click("#filter_form button[type=submit]")
    page.wait_for_url(lambda url: f"_flt_0_activity={activity.id}" in url)
    assert f"记录数目: {count}" in page.inner_text("body").replace("：", ": ")
    page.click("text=搜索")
    assert activity.title in page.inner_text("#filter_form")  # the chosen activity, by name
    page.screenshot(path="/tmp/h2-voucher-filter.png", full_page=True)
    assert not page.locator(".alert-danger").count()
