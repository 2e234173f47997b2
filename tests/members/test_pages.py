"""Member pages (issue 8 §1.7, §1.9, §2.3): the list leads to the import, the show page offers
编辑/删除 only to whom the grants allow, a saved member is shown, a refused save stays on its form,
a certification step returns to the (filtered) list it was started from."""
import re

import pytest
from sqlalchemy import select

from app.services import members as member_service
from app.services.errors import MemberInvalidError
from models.members import CertStatus, Member
from models.organizations import Org
from models.security import AppUser
from tests.factories import make_member, new_id_number

PENDING = "/memberview/list/?_flt_0_cert_status=pending"


def _own_union(ctx):
    return ctx.get(Org, ctx.scalar(select(AppUser.org_id).where(AppUser.username == "base_admin")))


def _form(org, **over):
    data = {"name": "李保存", "id_type": "resident", "id_number": new_id_number(), "phone": "13800138001",
            "org": str(org.id), "status": "active", "gender": "", "birth_date": ""}
    return {**data, **over}


@pytest.mark.parametrize("username, import_link", [("county_admin", True), ("base_admin", True),
                                                   ("auditor", False), ("reviewer", False)])
def test_member_list_leads_to_the_import_only_with_the_import_grant(client_as, username, import_link):
    client = client_as(username)
    html = client.get("/memberview/list/").get_data(as_text=True)
    assert ('id="import-link"' in html) is import_link
    if import_link:
        assert 'href="/datajobview/upload?kind=members"' in html
        assert client.get("/datajobview/upload?kind=members").status_code == 200
    else:
        assert client.get("/datajobview/upload?kind=members").status_code == 403


@pytest.mark.parametrize("username, edit, delete", [("county_admin", True, True), ("base_admin", True, False),
                                                    ("reviewer", False, False), ("auditor", False, False)])
def test_edit_and_delete_buttons_only_where_allowed(client_as, ctx, username, edit, delete):
    member = make_member(ctx, _own_union(ctx))
    client = client_as(username)
    show = client.get(f"/memberview/show/{member.id}").get_data(as_text=True)
    assert ('id="edit-link"' in show) is edit
    assert (f"/memberview/delete/{member.id}" in show) is delete
    listing = client.get(f"/memberview/list/?_flt_0_name={member.name}").get_data(as_text=True)
    assert (f"/memberview/edit/{member.id}" in listing) is edit
    assert (f"/memberview/delete/{member.id}" in listing) is delete
    if not edit:  # the refused side: no form, nothing changed
        assert client.get(f"/memberview/edit/{member.id}").status_code == 403
        assert client.post(f"/memberview/edit/{member.id}", data={"name": "改名了"}).status_code == 403
        ctx.expire_all()
        assert ctx.get(Member, member.id).name == member.name


def test_a_saved_member_is_shown_after_save(client_as, ctx):
    org = _own_union(ctx)
    number = new_id_number()
    client = client_as("base_admin")
    response = client.post("/memberview/add", data=_form(org, id_number=number))
    member = ctx.scalar(select(Member).where(Member.id_number == number))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/memberview/show/{member.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "李保存" in page and "记录已添加" in page and number not in page
    # born and gender derived by the server, whatever the form sent
    assert str(member.birth_date) == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    assert member.gender == ("male" if int(number[16]) % 2 else "female")
    response = client.post(f"/memberview/edit/{member.id}", data={
        "name": "李保存", "phone": "", "status": "active", "position": "会计", "gender": "", "birth_date": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/memberview/show/{member.id}")


def test_a_refused_save_stays_on_its_form_with_a_chinese_message(client_as, ctx, monkeypatch):
    org = _own_union(ctx)
    member = make_member(ctx, org)

    def refuse(session, item):
        raise MemberInvalidError({"unit": "该单位已注销，不能再登记会员"})

    monkeypatch.setattr(member_service, "validate_member", refuse)
    client = client_as("base_admin")
    number = new_id_number()
    response = client.post("/memberview/add", data=_form(org, id_number=number, name="王拒绝"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "该单位已注销" in html and 'value="王拒绝"' in html
    assert ctx.scalar(select(Member).where(Member.id_number == number)) is None
    response = client.post(f"/memberview/edit/{member.id}", data={
        "name": "王改名", "phone": "", "status": "active", "position": "新职务", "gender": "", "birth_date": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "该单位已注销" in html
    assert 'value="王改名"' in html and 'value="新职务"' in html  # as typed
    assert member.phone not in html  # §2.3 still: base admin has no unmask
    ctx.expire_all()
    assert (ctx.get(Member, member.id).name, ctx.get(Member, member.id).position) == (member.name, member.position)


def test_editing_without_unmask_keeps_the_hidden_phone_and_shows_none_of_it(client_as, ctx):
    member = make_member(ctx, _own_union(ctx))
    client = client_as("base_admin")
    html = client.get(f"/memberview/edit/{member.id}").get_data(as_text=True)
    assert member.phone not in html and member.id_number not in html and member.phone_masked in html
    assert not re.search(rf'name="phone"[^>]*value="{member.phone}"', html)
    client.post(f"/memberview/edit/{member.id}", data={
        "name": member.name, "phone": "", "status": "active", "position": "质检员", "gender": "", "birth_date": ""})
    ctx.expire_all()
    saved = ctx.get(Member, member.id)
    assert (saved.phone, saved.id_number, saved.position) == (member.phone, member.id_number, "质检员")
    # a new full number typed in replaces it (the clerk knows it); a bad one is a Chinese form error
    html = client.post(f"/memberview/edit/{member.id}", data={
        "name": member.name, "phone": "12345", "status": "active"}).get_data(as_text=True)
    assert "手机号" in html and ctx.get(Member, member.id).phone == member.phone


def _pending(ctx, org, name):
    member = make_member(ctx, org, name=name)
    member_service.review_certification(ctx, member.id, "submit", actor=None)
    return member


def test_the_pending_filter_survives_an_approval(client_as, ctx, app):
    from flask_appbuilder.models.sqla.filters import FilterEqual

    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "MemberView")
    assert type(view._filters._all_filters["cert_status"][0]) is FilterEqual  # PENDING's operator
    org = _own_union(ctx)
    a, b = _pending(ctx, org, "过滤甲"), _pending(ctx, org, "过滤乙")
    client = client_as("base_admin")
    response = client.post("/memberview/action_post", data={"action": "approve", "rowid": [a.id]},
                           headers={"Referer": f"http://localhost{PENDING}"})
    form_url = response.headers["Location"]
    assert "/memberview/flow/approve" in form_url and "next=" in form_url
    page = client.get(form_url).get_data(as_text=True)
    assert 'name="next"' in page
    response = client.post(form_url, data={"pk": [a.id], "next": PENDING})
    assert response.status_code == 302 and response.headers["Location"].endswith(PENDING)
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已完成 1 条" in listing and "过滤乙" in listing and "过滤甲" not in listing
    assert "当前状态为" not in listing  # one step, one report: no red error beside the success
    ctx.expire_all()
    assert ctx.get(Member, a.id).cert_status == CertStatus.VERIFIED
    # a forged return address leads to the list, never off the site or to another view
    for forged in ("https://evil.example/memberview/list/", "//evil.example/memberview/list/", "/users/list/"):
        response = client.post("/memberview/flow/approve", data={"pk": [b.id], "next": forged})
        assert response.headers["Location"].endswith("/memberview/list/"), forged


def test_a_step_taken_on_the_show_page_returns_to_the_filtered_list_it_was_opened_from(client_as, ctx):
    org = _own_union(ctx)
    a, _b = _pending(ctx, org, "详情甲"), _pending(ctx, org, "详情乙")
    client = client_as("base_admin")
    show = client.get(f"/memberview/show/{a.id}", headers={"Referer": f"http://localhost{PENDING}"})
    link = re.search(r'href="([^"]*/memberview/flow/approve[^"]*)"', show.get_data(as_text=True)).group(1)
    link = link.replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    next_value = re.search(r'name="next" value="([^"]*)"', form).group(1).replace("&amp;", "&")
    assert next_value == PENDING
    response = client.post("/memberview/flow/approve", data={"pk": [a.id], "next": next_value})
    assert response.headers["Location"].endswith(PENDING)
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已完成 1 条" in listing and "详情乙" in listing and "详情甲" not in listing
