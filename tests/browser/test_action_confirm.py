"""A list action with consequences asks first, in Chinese (FAB's confirm dialog): 下线 a merchant."""
from sqlalchemy import select

from models.vouchers import Merchant
from tests.browser.pages import assert_clean, flashes, login

ACTIONS = "操作"  # FAB's "Actions" menu


def test_taking_a_merchant_offline_asks_in_chinese_first(live_server, page, ctx):
    merchant = ctx.scalars(select(Merchant).where(Merchant.online.is_(True)).order_by(Merchant.id)).first()
    login(page, live_server, "city_admin")
    page.goto(f"{live_server}/merchantview/list/")
    page.locator(f"input.action_check[value='{merchant.id}']").check()
    page.locator("button.dropdown-toggle", has_text=ACTIONS).click()
    page.locator(".offline_menu_item").click()
    dialog = page.locator("#modal-confirm")
    dialog.wait_for(state="visible")
    assert "确定将所选商家下线" in dialog.inner_text() and "确定" in dialog.inner_text()
    page.screenshot(path="/tmp/confirm-offline.png")
    dialog.locator(".btn-default").click()  # 取消: nothing happens
    dialog.wait_for(state="hidden")
    ctx.expire_all()
    assert ctx.get(Merchant, merchant.id).online is True

    page.locator("button.dropdown-toggle", has_text=ACTIONS).click()
    page.locator(".offline_menu_item").click()
    dialog.wait_for(state="visible")
    dialog.locator("#modal-confirm-ok").click()
    page.wait_for_load_state()
    page.locator(".alert-success").wait_for()
    assert any("已下线 1 个商家" in f for f in flashes(page, "success"))
    assert_clean(page)
    ctx.expire_all()
    assert ctx.get(Merchant, merchant.id).online is False
    ctx.get(Merchant, merchant.id).online = True  # the other journeys redeem at this merchant
    ctx.commit()
