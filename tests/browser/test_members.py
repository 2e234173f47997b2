"""Member pages against seed 003 figs. 5/8/19/20, in Chromium as a county admin: the list leads to
the import; adding a member (typing the ID fills gender and birth date, the union then one of its
units chosen in the search-as-you-type widgets) shows it after 保存; its page offers 编辑; the
certification steps, one and in bulk from the 待审核 list, report once and keep the list filtered."""
import re

from flask_appbuilder.models.sqla.filters import FilterEqual
from sqlalchemy import select

from app.services.members import review_certification
from models.members import Member
from models.organizations import Unit
from tests.browser.pages import assert_clean, choose_in_lookup, confirm_flow_step, flashes, login, submit
from tests.factories import base_of, county, make_member, new_id_number


def _pending(ctx, org, name):
    member = make_member(ctx, org, name=name)
    review_certification(ctx, member.id, "submit", actor=None)
    return member


def _pending_list_url(app) -> str:
    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "MemberView")
    index = next(i for i, f in enumerate(view._filters._all_filters["cert_status"]) if type(f) is FilterEqual)
    return f"/memberview/list/?_flt_{index}_cert_status=pending"


def test_county_admin_adds_a_member_sees_it_and_edits_it(live_server, page, ctx):
    union = base_of(ctx, county(ctx, 0), 1)
    other_union = base_of(ctx, county(ctx, 0), 0)
    unit = ctx.scalars(select(Unit).where(Unit.org_id == union.id).order_by(Unit.id)).first()
    other_unit = ctx.scalars(select(Unit).where(Unit.org_id == other_union.id).order_by(Unit.id)).first()
    number = new_id_number(male=False)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/memberview/list/")
    assert page.locator("#import-link").get_attribute("href").endswith("/datajobview/upload?kind=members")
    page.screenshot(path="/tmp/members-list.png", full_page=True)
    page.click("#import-link")
    page.wait_for_url(re.compile(r"/datajobview/upload"))
    assert page.locator("input[name=file]").count() == 1
    page.go_back()

    page.goto(f"{live_server}/memberview/add")
    assert "__None" not in page.content()
    page.fill("input[name=name]", "浏览器新会员")
    page.locator("input[name=id_number]").type(number)  # typed key by key, as a clerk does
    born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    gender = "male" if int(number[16]) % 2 else "female"
    assert page.locator("select[name=gender]").input_value() == gender
    assert page.locator("input[name=birth_date]").input_value() == born
    assert born in page.inner_text("#id-derived")
    page.fill("input[name=phone]", "13700004321")
    # no union chosen yet: the unit list offers nothing
    page.locator("select[name=unit] + .select2 .select2-selection").click()
    page.wait_for_selector(".select2-results__option")
    assert unit.name not in page.inner_text(".select2-results")
    page.keyboard.press("Escape")
    choose_in_lookup(page, "org", union.name, union.name)
    page.locator("select[name=unit] + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").type("单位")
    page.wait_for_selector(f".select2-results__option:has-text('{unit.name}')")
    offered = page.inner_text(".select2-results")
    assert other_unit.name not in offered  # only the chosen union's units
    page.locator(".select2-results__option", has_text=unit.name).first.click()
    page.screenshot(path="/tmp/members-add.png", full_page=True)
    submit(page, "form button[type=submit]")

    assert re.search(r"/memberview/show/\d+$", page.url), page.url
    assert flashes(page, "success")
    assert_clean(page)
    body = page.inner_text("body")
    assert "浏览器新会员" in body and union.name in body and unit.name in body and born in body
    assert number not in page.content()
    page.screenshot(path="/tmp/members-show.png", full_page=True)
    ctx.expire_all()
    member = ctx.scalar(select(Member).where(Member.id_number == number))
    assert (member.org_id, member.unit_id, member.gender) == (union.id, unit.id, gender)

    page.click("#edit-link")
    page.wait_for_url(re.compile(rf"/memberview/edit/{member.id}$"))
    assert "__None" not in page.content()
    page.fill("input[name=position]", "班组长")
    page.screenshot(path="/tmp/members-edit.png", full_page=True)
    submit(page, "form button[type=submit]")
    assert page.url.endswith(f"/memberview/show/{member.id}")
    assert flashes(page, "success")
    assert_clean(page)
    assert "班组长" in page.inner_text("body")
    ctx.expire_all()
    assert ctx.get(Member, member.id).position == "班组长"
    assert ctx.get(Member, member.id).phone == "13700004321"


def test_certification_one_and_bulk_from_the_pending_list(live_server, page, ctx, app):
    org = base_of(ctx, county(ctx, 0), 2)
    one, *bulk = (_pending(ctx, org, name) for name in ("单审核甲", "批审核乙", "批审核丙"))
    pending = _pending_list_url(app)
    login(page, live_server, "county_admin")

    # one, from its page
    page.goto(f"{live_server}/memberview/show/{one.id}")
    assert_clean(page)
    confirm_flow_step(page, "认证通过")
    assert [f for f in flashes(page, "success") if "已完成 1 条" in f]
    assert_clean(page)
    page.screenshot(path="/tmp/members-approve-one.png", full_page=True)

    # bulk, from the 待审核 list
    page.goto(live_server + pending)
    assert_clean(page)
    for member in bulk:
        page.locator("table tr", has_text=member.name).locator("input.action_check").check()
    page.click("button.dropdown-toggle:has-text('操作')")
    page.click(".approve_menu_item")
    page.wait_for_selector("#flow-form")
    assert all(m.name in page.inner_text("#flow-form") for m in bulk)
    submit(page, "#flow-form button[type=submit]")
    assert "cert_status=pending" in page.url  # back on the filtered list
    assert [f for f in flashes(page, "success") if "已完成 2 条" in f]
    assert_clean(page)
    body = page.inner_text("body")
    assert not any(m.name in body for m in (one, *bulk))  # approved: off the 待审核 list
    page.screenshot(path="/tmp/members-approve-bulk.png", full_page=True)
    ctx.expire_all()
    assert {ctx.get(Member, m.id).cert_status for m in (one, *bulk)} == {"verified"}
