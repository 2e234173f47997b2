"""Back-office pages as each role: 代为申报, the bases' orders (own base only), products, exports,
statistics, pending orgs; refused side (404 outside scope, 403 without the grant, nothing changed)."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models.recuperation import Declaration, Product, Reservation
from tests.conftest import login
from tests.factories import base_of, county, make_user

from .conftest import base_manager, make_base, make_product

pytestmark = pytest.mark.usefixtures("frozen_clock", "policy")


def client_of(app, user):
    client = app.test_client()
    response = login(client, user.username)
    assert response.status_code == 302
    return client


@pytest.fixture()
def clerk(ctx, union):
    return make_user(ctx, "基层工会管理员", union)


def declare_form(member, products, **over):
    form = {"id_number": member.id_number, "type": "city_all", "day1_date": "2025-05-01",
            "day1_meal": str(products["meal"].id), "day1_activity": str(products["activity"].id),
            "day1_lodging": str(products["lodging"].id), "day2_date": "2025-05-03",
            "day2_meal": str(products["meal"].id), "commitment": "y", "submit": "1"}
    form.update(over)
    return form


def test_clerk_declares_on_behalf_and_the_base_sees_the_order(app, ctx, clerk, base, seed_products, member_factory):
    member = member_factory()
    client = client_of(app, clerk)
    assert "代为申报" in client.get("/declarationview/declare").get_data(as_text=True)
    response = client.post("/declarationview/declare", data=declare_form(member, seed_products), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已为" in html and "基地已收到订单" in html and "由职工自理" in html
    declaration = ctx.scalar(select(Declaration).where(Declaration.member_id == member.id))
    assert declaration.status == "submitted" and declaration.planned_total == Decimal("564.00")
    manager = client_of(app, base_manager(ctx, base))
    orders = manager.get("/reservationview/list/").get_data(as_text=True)
    assert member.name in orders and "已预约" in orders
    export = manager.get("/reservationview/export/")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.data)).active.values)
    assert any(member.name in [str(c) for c in row] for row in rows)


def test_clerk_cannot_declare_for_a_member_outside_his_union(app, ctx, clerk, seed_products):
    from tests.factories import make_member

    stranger = make_member(ctx, base_of(ctx, county(ctx, 1)))
    client = client_of(app, clerk)
    html = client.post("/declarationview/declare", data=declare_form(stranger, seed_products),
                       follow_redirects=True).get_data(as_text=True)
    assert "未在您管辖的工会中找到" in html
    assert ctx.scalar(select(func.count(Declaration.id)).where(Declaration.member_id == stranger.id)) == 0


def test_clerk_declare_refusals_are_chinese_and_change_nothing(app, ctx, clerk, seed_products, member_factory):
    member = member_factory()
    client = client_of(app, clerk)
    html = client.post("/declarationview/declare", data=declare_form(member, seed_products, day2_date="2025-04-30"),
                       follow_redirects=True).get_data(as_text=True)
    assert "第2日的日期须晚于第1日（2025-05-01）" in html
    html = client.post("/declarationview/declare", data=declare_form(member, seed_products, day1_date="junk"),
                       follow_redirects=True).get_data(as_text=True)
    assert "日期格式有误" in html
    html = client.post("/declarationview/declare", data=declare_form(member, seed_products, commitment=""),
                       follow_redirects=True).get_data(as_text=True)
    assert "承诺书" in html
    assert ctx.scalar(select(Declaration.status).where(Declaration.member_id == member.id)) in (None, "draft")
    assert ctx.scalar(select(func.count(Reservation.id)).join(Declaration).where(
        Declaration.member_id == member.id)) == 0


def test_base_manager_reading_another_bases_order_is_404(app, ctx, clerk, base, seed_products, member_factory,
                                                         home_county):
    member = member_factory()
    client_of(app, clerk).post("/declarationview/declare", data=declare_form(member, seed_products))
    order = ctx.scalar(select(Reservation).join(Declaration).where(Declaration.member_id == member.id).limit(1))
    other = client_of(app, base_manager(ctx, make_base(ctx, home_county)))
    assert other.get(f"/reservationview/show/{order.id}").status_code == 404
    assert member.name not in other.get("/reservationview/list/").get_data(as_text=True)
    own = client_of(app, base_manager(ctx, base))
    assert own.get(f"/reservationview/show/{order.id}").status_code == 200
    assert other.get(f"/productview/show/{seed_products['meal'].id}").status_code == 404


def test_base_manager_adds_product_only_to_his_base_and_price_rule(app, ctx, base, home_county):
    manager = client_of(app, base_manager(ctx, base))
    other = make_base(ctx, home_county)
    form = {"base": str(base.id), "category": "meal", "name": "新套餐A", "price": "120.00", "group_price": "100.00",
            "daily_capacity": "10", "status": "on_sale"}
    html = manager.post("/productview/add", data=form, follow_redirects=True).get_data(as_text=True)
    assert "不得高于团队价" in html
    assert manager.post("/productview/add", data={**form, "base": str(other.id), "price": "90.00"})
    assert ctx.scalar(select(func.count(Product.id)).where(Product.name == "新套餐A")) == 0
    manager.post("/productview/add", data={**form, "price": "90.00"})
    assert ctx.scalar(select(Product.base_id).where(Product.name == "新套餐A")) == base.id


def test_member_role_has_no_back_office_pages(app, ctx, member_factory):
    from .conftest import member_account

    client = client_of(app, member_account(ctx, member_factory()))
    for url in ("/declarationview/list/", "/declarationview/declare", "/reservationview/list/", "/recup-stats/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/declarationview/declare", data={"id_number": "x"}).status_code == 403


def test_base_manager_cannot_declare_or_see_declarations(app, ctx, base):
    manager = client_of(app, base_manager(ctx, base))
    assert manager.get("/declarationview/list/").status_code == 403
    assert manager.get("/policyview/list/").status_code == 403


def test_stats_count_none_type_and_export(app, ctx, clerk, member_factory, union):
    from app.services.recuperation import declarations as svc

    member = member_factory()
    declaration = svc.save_declaration(ctx, member=member, year=2025, type="none", actor=clerk).declaration
    svc.submit_declaration(ctx, declaration.id, actor=clerk, commitment=True)
    client = client_of(app, clerk)
    html = client.get("/recup-stats/?year=2025").get_data(as_text=True)
    assert "本年度不参加" in html and union.name in html
    export = client.get("/recup-stats/export/?year=2025&group=county")
    rows = list(load_workbook(io.BytesIO(export.data)).active.values)
    assert "本年度不参加" in rows[0]
    assert client.get("/recup-stats/?year=abc").status_code == 200


def test_insurance_roster_lists_declared_days(app, ctx, clerk, seed_products, member_factory, client_as):
    member = member_factory()
    client_of(app, clerk).post("/declarationview/declare", data=declare_form(member, seed_products))
    admin = client_as("city_admin")
    export = admin.get("/insurancerosterview/export/")
    rows = [r for r in load_workbook(io.BytesIO(export.data)).active.values if member.name in [str(c) for c in r]]
    assert sorted(str(r[0])[:10] for r in rows) == ["2025-05-01", "2025-05-03"]
    assert admin.get("/capacityview/list/").status_code == 200


def test_pending_org_listed_and_merged(app, ctx, member_factory, client_as, union):
    from app.services.recuperation import declarations as svc
    from models.organizations import Org

    member = member_factory()
    declaration = svc.save_declaration(ctx, member=member, year=2025, type="none", actor=None,
                                       unit_name="测试待核实单位甲").declaration
    pending_id = declaration.org_id
    admin = client_as("city_admin")
    html = admin.get("/recup-pending-orgs/").get_data(as_text=True)
    assert "测试待核实单位甲" in html
    assert admin.post("/recup-pending-orgs/resolve/99999999", data={"target_id": union.id}).status_code == 404
    admin.post(f"/recup-pending-orgs/resolve/{pending_id}", data={"target_id": union.id})
    ctx.expire_all()
    assert ctx.get(Declaration, declaration.id).org_id == union.id and ctx.get(Org, pending_id) is None


def test_unit_review_of_platform_plan_in_the_back_office(app, ctx, clerk, member_factory):
    from app.services.recuperation import declarations as svc

    member = member_factory()
    declaration = svc.save_declaration(ctx, member=member, year=2025, type="prov_platform", actor=None,
                                       destination="千岛湖").declaration
    svc.submit_declaration(ctx, declaration.id, actor=None, commitment=True)
    client = client_of(app, clerk)
    assert "单位审核通过" in client.get(f"/declarationview/show/{declaration.id}").get_data(as_text=True)
    client.post("/declarationview/flow/unit_approve", data={"pk": declaration.id})
    ctx.expire_all()
    assert ctx.get(Declaration, declaration.id).status == "unit_approved"


def test_policy_edit_by_city_admin_only(app, ctx, client_as, policy):
    assert client_as("county_admin").get(f"/policyview/edit/{policy.id}").status_code == 403
    page = client_as("city_admin").get(f"/policyview/edit/{policy.id}")
    assert page.status_code == 200 and "允许的疗休养类型" in page.get_data(as_text=True)


def test_capacity_page_and_export_for_the_base_manager(app, ctx, clerk, base, seed_products, member_factory):
    member = member_factory()
    client_of(app, clerk).post("/declarationview/declare", data=declare_form(member, seed_products))
    manager = client_of(app, base_manager(ctx, base))
    html = manager.get("/capacityview/list/").get_data(as_text=True)
    assert "已预约" in html and "剩余" in html
    rows = list(load_workbook(io.BytesIO(manager.get("/capacityview/export/").data)).active.values)
    lodging = [r for r in rows if r[1] == seed_products["lodging"].name]
    assert lodging and lodging[0][3:] == (10, 1, 9)


def test_clerk_cannot_file_a_plan_under_another_union(app, ctx, clerk, seed_products, member_factory):
    member = member_factory()
    foreign = base_of(ctx, county(ctx, 1))
    html = client_of(app, clerk).post("/declarationview/declare", follow_redirects=True, data=declare_form(
        member, seed_products, org_id=str(foreign.id))).get_data(as_text=True)
    assert "不在您的管辖范围内" in html
    assert ctx.scalar(select(func.count(Declaration.id)).where(Declaration.member_id == member.id)) == 0
