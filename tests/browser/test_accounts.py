"""Playwright in Debian's Chromium: the sysadmin creates an account for a new finance clerk,
binding it to his union by typing its name; the clerk logs in and changes his password."""
from sqlalchemy import select

from models.members import Member
from models.security import AppUser
from tests.browser.pages import assert_clean, choose_in_lookup, choose_in_select2, flashes, login
from tests.factories import county


def test_sysadmin_creates_a_user_who_then_changes_his_password(live_server, page, ctx):
    union = county(ctx, 0)
    member = ctx.scalar(select(Member).order_by(Member.id))
    login(page, live_server, "sysadmin")
    page.goto(f"{live_server}/users/add")
    page.fill("input[name=first_name]", "财务")
    page.fill("input[name=last_name]", "新人")
    page.fill("input[name=username]", "browser_finance")
    page.fill("input[name=email]", "browser_finance@test.invalid")
    choose_in_select2(page, "roles", "财务")
    choose_in_lookup(page, "org", union.name[:2], union.name)
    page.click("select[name=member] + .select2-container")
    assert "请输入搜索内容" in page.locator(".select2-results").inner_text()  # no browsing the registry
    search = page.locator(".select2-container--open .select2-search__field")
    search.press_sequentially(member.name)
    page.wait_for_selector(f".select2-results__option:has-text('{member.id_number_masked}')")
    shown = page.locator(".select2-results").inner_text()
    assert member.id_number not in shown and member.phone not in shown  # name and masked ID only
    page.screenshot(path="/tmp/h2-user-member-lookup.png", full_page=True)
    search.fill("")
    search.press_sequentially("不存在的人")
    page.wait_for_selector(".select2-results__option:has-text('没有匹配的记录')")
    page.keyboard.press("Escape")
    page.fill("input[name=password]", "Browser-2026-pass")
    page.fill("input[name=conf_password]", "Browser-2026-pass")
    page.screenshot(path="/tmp/h2-user-add.png", full_page=True)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_load_state()
    assert flashes(page, "success"), page.content()[:2000]
    assert_clean(page)
    ctx.expire_all()
    user = ctx.scalar(select(AppUser).where(AppUser.username == "browser_finance"))
    assert user.org_id == union.id and [r.name for r in user.roles] == ["财务"]
    page.goto(f"{live_server}/users/edit/{user.id}")
    assert page.locator("select[name=org] option[selected]").inner_text() == union.name  # the binding, not a list
    page.screenshot(path="/tmp/h2-user-edit.png", full_page=True)

    login(page, live_server, "browser_finance", "Browser-2026-pass")
    page.goto(f"{live_server}/resetmypassword/form")
    page.fill("input[name=old_password]", "Browser-2026-pass")
    page.fill("input[name=password]", "Browser-2027-pass")
    page.fill("input[name=conf_password]", "Browser-2027-pass")
    page.screenshot(path="/tmp/h2-change-password.png", full_page=True)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_load_state()
    assert any("密码已修改" in f for f in flashes(page, "success")), flashes(page, "success")
    assert_clean(page)
    login(page, live_server, "browser_finance", "Browser-2027-pass")
    assert "/login" not in page.url
