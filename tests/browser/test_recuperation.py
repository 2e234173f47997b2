"""疗休养 journeys in Debian's Chromium (seed 000): a union clerk declares on behalf of a member in the
back office (an itinerary with a product per day), the base manager sees the orders in his daily order
list at once; another base's manager gets 404. The member's own API: declare, modify (the type stays
locked), read his plan; another member's plan → 404."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from models.base import DISPLAY_TZ
from models.recuperation import Declaration, Product, RecupBase, Reservation
from models.security import AppUser
from seed.loader import DEMO_PASSWORD
from tests.browser.pages import assert_clean, flashes, login, submit
from tests.factories import county, make_member, make_user

SHOTS = "/tmp/h5-recup-{}.png"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=DISPLAY_TZ)


def shot(page, name):
    page.screenshot(path=SHOTS.format(name), full_page=True)


@pytest.fixture()
def clock(monkeypatch, ctx):
    """The services' clock inside the 2025 window (the live server runs in this process)."""
    from app.services.recuperation import declarations, policy
    from tests.recuperation.conftest import make_policy

    fixed = lambda: NOW.astimezone(timezone.utc)  # noqa: E731
    monkeypatch.setattr(policy, "utcnow", fixed)
    monkeypatch.setattr(declarations, "utcnow", fixed)
    return make_policy(ctx, 2025)


def demo_products(ctx):
    base = ctx.scalar(select(RecupBase).where(RecupBase.name == "会稽山疗休养基地"))
    return base, {p.category: p for p in ctx.scalars(select(Product).where(Product.base_id == base.id))}


def test_clerk_declares_for_a_member_and_the_base_sees_the_orders(live_server, page, ctx, clock):
    clerk = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin"))
    member = make_member(ctx, clerk.org, name="钱疗养", has_citizen_card=True)
    base, products = demo_products(ctx)

    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/declarationview/list/")
    submit(page, "#declare-link")
    page.fill("#id_number", member.id_number)
    page.select_option("#type", label="市内-全市")
    page.fill("#day1_date", "2025-05-01")
    page.select_option("#day1_meal", label=f"{base.name} · 农家套餐（88.00 元）")
    page.select_option("#day1_activity", label=f"{base.name} · 景区门票（120.00 元）")
    page.select_option("#day1_lodging", label=f"{base.name} · 民宿标间（268.00 元）")
    page.fill("#day2_date", "2025-05-03")
    page.select_option("#day2_meal", label=f"{base.name} · 农家套餐（88.00 元）")
    page.check("#commitment")
    shot(page, "declare-form")
    submit(page, "#submit-plan")
    assert any("已为「钱疗养」上报计划" in f for f in flashes(page, "success")), page.inner_text("body")[:500]
    assert [f.lstrip("×").strip() for f in flashes(page, "warning")] == [
        "计划金额 564.00 元，超出参考标准 400 元的 164.00 元由职工自理"]
    body = page.inner_text("body")
    assert "已上报" in body and "民宿标间" in body and "第2日" in body
    shot(page, "declaration-show")
    assert_clean(page)

    # the base manager sees the three orders of 1 May and the one of 3 May at once
    login(page, live_server, "base_manager")
    page.goto(f"{live_server}/reservationview/list/")
    rows = page.locator("table tr", has_text="钱疗养")
    assert rows.count() == 4
    assert "已预约" in rows.first.inner_text()
    shot(page, "base-orders")
    assert_clean(page)

    # another base's manager: the order is not his (404) and not in his list
    other = RecupBase(name="浏览器测试另一基地", org_id=county(ctx, 1).id, status="active")
    ctx.add(other)
    ctx.commit()
    stranger = make_user(ctx, "基地管理员", None, recup_base_id=other.id)
    order = ctx.scalar(select(Reservation).join(Declaration).where(Declaration.member_id == member.id).limit(1))
    login(page, live_server, stranger.username)
    assert page.goto(f"{live_server}/reservationview/show/{order.id}").status == 404
    page.goto(f"{live_server}/reservationview/list/")
    assert "钱疗养" not in page.inner_text("body")


def _token(page, live_server, username):
    response = page.request.post(f"{live_server}/api/v1/security/login", data={
        "username": username, "password": DEMO_PASSWORD, "provider": "db", "refresh": False})
    assert response.status == 200, response.text()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_member_declares_modifies_and_reads_through_the_api(live_server, page, ctx, clock):
    base, products = demo_products(ctx)
    county0 = base.org
    union = next(o for o in county0.children if o.level == "base")
    me, them = (make_member(ctx, union, name="孙会员", has_citizen_card=True),
                make_member(ctx, union, name="周会员", has_citizen_card=True))
    mine = make_user(ctx, "会员", union, member_id=me.id)
    theirs = make_user(ctx, "会员", union, member_id=them.id)
    auth, other_auth = _token(page, live_server, mine.username), _token(page, live_server, theirs.username)
    api = f"{live_server}/api/v1/recuperation"

    plan = {"type": "city_all", "days": [{"date": "2025-06-01", "items": [{"product_id": products["meal"].id}]}]}
    saved = page.request.put(f"{api}/declaration", data=plan, headers=auth)
    assert saved.status == 200, saved.text()
    submitted = page.request.post(f"{api}/declaration/submit", data={"commitment": True}, headers=auth)
    assert submitted.json()["result"]["status_label"] == "已上报"
    locked = page.request.put(f"{api}/declaration", data={**plan, "type": "none", "days": []}, headers=auth)
    assert locked.status == 409 and locked.json() == {"code": "type_locked", "message": "疗休养类型提交后不可修改"}
    modified = page.request.put(f"{api}/declaration", headers=auth, data={"type": "city_all", "days": [
        {"date": "2025-06-02", "items": [{"product_id": products["lodging"].id}]}]})
    assert modified.status == 200 and modified.json()["result"]["version"] == 2
    read = page.request.get(f"{api}/declaration", headers=auth).json()["result"]
    assert read["type_label"] == "市内-全市" and [d["date"] for d in read["days"]] == ["2025-06-02"]

    other = page.request.put(f"{api}/declaration", data={"type": "none"}, headers=other_auth).json()["result"]
    refused = page.request.get(f"{api}/declarations/{other['id']}", headers=auth)
    assert refused.status == 404 and refused.json()["code"] == "not_found"
    assert page.request.get(f"{api}/declarations/{read['id']}", headers=auth).status == 200


def test_base_manager_adds_a_product_and_the_city_reads_the_figures(live_server, page, ctx, clock):
    from tests.browser.pages import choose_in_select2

    base, _products = demo_products(ctx)
    login(page, live_server, "base_manager")
    page.goto(f"{live_server}/productview/add")
    choose_in_select2(page, "base", base.name)
    page.select_option("#category", label="住宿")
    page.fill("#name", "浏览器湖景房")
    page.fill("#price", "320.00")
    page.fill("#group_price", "300.00")
    page.fill("#daily_capacity", "8")
    submit(page, "form button[type=submit], form input[type=submit]")
    assert "不得高于团队价" in page.inner_text("body")  # refused in Chinese, the form kept as typed
    page.fill("#price", "280.00")
    submit(page, "form button[type=submit], form input[type=submit]")
    assert ctx.scalar(select(Product.price).where(Product.name == "浏览器湖景房")) is not None
    page.goto(f"{live_server}/productview/list/")
    assert "浏览器湖景房" in page.inner_text("body")
    shot(page, "products")
    assert_clean(page)

    login(page, live_server, "city_admin")
    page.goto(f"{live_server}/recup-stats/?year=2025")
    assert "本年度不参加" in page.inner_text("#stat-table")
    page.click("#stat-grouping a:has-text('按区县汇总')")
    page.wait_for_load_state()
    shot(page, "stats")
    assert_clean(page)
    page.goto(f"{live_server}/recup-pending-orgs/")
    shot(page, "pending")
    assert_clean(page)
    page.goto(f"{live_server}/capacityview/list/")
    shot(page, "capacity")
    assert_clean(page)
