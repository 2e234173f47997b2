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
from tests.browser.pages import assert_clean, flashes, login, submit, type_datetime
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
    type_datetime(page, "#day1_date", "2025-05-01")
    page.select_option("#day1_meal", label=f"{base.name} · 农家套餐（88.00 元）")
    page.select_option("#day1_activity", label=f"{base.name} · 景区门票（120.00 元）")
    page.select_option("#day1_lodging", label=f"{base.name} · 民宿标间（268.00 元）")
    type_datetime(page, "#day2_date", "2025-05-03")
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


def _png(tmp_path):
    from PIL import Image

    path = tmp_path / "收费小票.png"
    Image.new("RGB", (40, 30), "white").save(path)
    return path


def test_member_complains_county_answers_member_reads_the_reply(live_server, page, ctx, clock, tmp_path):
    """S000:L47: 价格高于团队价 → 投诉; the county federation takes and answers it; the member gets a 站内信."""
    from models.recuperation import Complaint

    base, _products = demo_products(ctx)
    union = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin")).org
    member = make_member(ctx, union, name="吴投诉", has_citizen_card=True)
    account = make_user(ctx, "会员", union, member_id=member.id)
    auth = _token(page, live_server, account.username)
    api = f"{live_server}/api/v1/recuperation"
    picture = _png(tmp_path)
    filed = page.request.post(f"{api}/complaints", headers=auth, multipart={
        "content": "农家套餐收费高于团队价，要求退还差价", "base_id": str(base.id),
        "files": {"name": picture.name, "mimeType": "image/png", "buffer": picture.read_bytes()}})
    assert filed.status == 201, filed.text()
    complaint_id = filed.json()["result"]["id"]

    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/complaintview/list/")
    row = page.locator("table tr", has_text="吴投诉")
    assert "待处理" in row.inner_text() and "农家套餐收费高于团队价" in row.inner_text()
    shot(page, "complaints-list")
    assert_clean(page)
    page.goto(f"{live_server}/complaintview/show/{complaint_id}")
    assert "收费小票.png" in page.inner_text("#complaint-files")
    submit(page, "#complaint-take a")
    submit(page, "#flow-form button[type=submit]")
    page.goto(f"{live_server}/complaintview/show/{complaint_id}")
    assert "处理中" in page.inner_text("body")
    page.fill("#reply", "经核实，基地已按团队价退还差价10元。")
    submit(page, "#reply-form button[type=submit]")
    assert any("投诉已答复办结" in f for f in flashes(page, "success"))
    body = page.inner_text("body")
    assert "已办结" in body and "经核实，基地已按团队价退还差价10元。" in body and "受理投诉" in body
    shot(page, "complaint-answered")
    assert_clean(page)
    assert ctx.get(Complaint, complaint_id) is not None

    inbox = page.request.get(f"{live_server}/api/v1/worker/messages", headers=auth).json()["result"]
    assert inbox[0]["title"] == "投诉已答复" and "退还差价" in inbox[0]["body"]
    mine = page.request.get(f"{api}/complaints/{complaint_id}", headers=auth).json()["result"]
    assert mine["status_label"] == "已办结"
    other = RecupBase(name="浏览器投诉另一基地", org_id=county(ctx, 1).id, status="active")
    ctx.add(other)
    ctx.commit()
    login(page, live_server, make_user(ctx, "基地管理员", None, recup_base_id=other.id).username)
    assert page.goto(f"{live_server}/complaintview/show/{complaint_id}").status == 404


def test_base_manager_cancels_a_booking_and_the_member_is_told(live_server, page, ctx, clock):
    from app.services.recuperation import declarations as svc

    _base, products = demo_products(ctx)
    union = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin")).org
    member = make_member(ctx, union, name="郑取消", has_citizen_card=True)
    account = make_user(ctx, "会员", union, member_id=member.id)
    plan = svc.save_declaration(ctx, member=member, year=2025, type="city_all", actor=None, days=[
        {"date": "2025-06-08", "items": [{"product_id": products["lodging"].id, "quantity": 1}]}]).declaration
    svc.submit_declaration(ctx, plan.id, actor=None, commitment=True)
    booking = ctx.scalar(select(Reservation).where(Reservation.declaration_id == plan.id))

    login(page, live_server, "base_manager")
    page.goto(f"{live_server}/reservationview/show/{booking.id}")
    page.click("a.btn:has-text('基地取消预约')")
    page.wait_for_selector("#flow-form")
    page.fill("#flow-form textarea[name=reason]", "客房检修")
    submit(page, "#flow-form button[type=submit]")
    assert any("「基地取消预约」已完成 1 条" in f for f in flashes(page, "success"))
    page.goto(f"{live_server}/reservationview/show/{booking.id}")
    assert "已取消" in page.inner_text("body") and "客房检修" in page.inner_text("body")
    shot(page, "booking-cancelled")
    assert_clean(page)
    auth = _token(page, live_server, account.username)
    inbox = page.request.get(f"{live_server}/api/v1/worker/messages", headers=auth).json()["result"]
    assert inbox[0]["title"] == "基地取消了您的预约" and "客房检修" in inbox[0]["body"]


def test_county_imports_the_frontline_roster_and_clerk_registers_a_citizen_card(live_server, page, ctx, clock,
                                                                                tmp_path):
    import re

    from tests.factories import make_xlsx

    union = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin")).org
    worker = make_member(ctx, union, name="冯一线")
    path = make_xlsx(tmp_path / "一线职工名单.xlsx", [["*年度", "*身份证号", "*姓名", "备注"],
                                                     ["2025", worker.id_number, worker.name, "环卫"],
                                                     ["2025", "110101199003070000", "王不在", ""]],
                     sheet="一线职工疗休养名单导入表")
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/frontlinerosterview/list/")
    page.click("#import-frontline")
    page.wait_for_url(re.compile(r"/datajobview/upload"))
    page.set_input_files("input[name=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/datajobview/show/\d+"))
    page.wait_for_function("document.getElementById('job-status').textContent.trim() === '部分成功'")
    assert "成功 1" in page.inner_text("#job-counts")
    shot(page, "frontline-job")
    page.goto(f"{live_server}/frontlinerosterview/list/")
    assert "冯一线" in page.inner_text("body") and worker.id_number not in page.inner_text("body")
    shot(page, "frontline-roster")
    assert_clean(page)

    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/memberview/edit/{worker.id}")
    page.fill("input[name=citizen_card_no]", "330600123456")
    submit(page, "form#model_form button[type=submit], form button[type=submit]")
    page.goto(f"{live_server}/memberview/show/{worker.id}")
    assert "已登记（尾号3456）" in page.inner_text("body")
    shot(page, "member-citizen-card")
    assert_clean(page)
