"""Separation of duties: the sysadmin manages accounts only, the audit admin reads the log only."""
from sqlalchemy import select

from models.audit import AuditLog


def test_sysadmin_manages_users_but_sees_no_member_data(client_as):
    client = client_as("sysadmin")
    assert client.get("/users/list/").status_code == 200
    assert client.get("/roles/list/").status_code == 200
    for url in ("/memberview/list/", "/memberview/show/1", "/unitview/list/", "/orgview/list/",
                "/auditlogview/list/", "/orgtree/"):
        assert client.get(url).status_code == 403, url
    home = client.get("/").get_data(as_text=True)
    assert "管辖范围内会员" not in home


def test_sysadmin_cannot_edit_role_permissions(client_as):
    client = client_as("sysadmin")
    assert client.get("/roles/add").status_code == 403
    assert client.post("/roles/add", data={"name": "越权角色"}).status_code == 403


def test_audit_admin_sees_only_the_audit_log(client_as, ctx):
    client = client_as("auditadmin")
    html = client.get("/auditlogview/list/").get_data(as_text=True)
    assert "登录成功" in html
    for url in ("/memberview/list/", "/users/list/", "/unitview/list/", "/orgtree/"):
        assert client.get(url).status_code == 403, url


def test_audit_log_is_append_only(client_as, ctx):
    row_id = ctx.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    client = client_as("auditadmin")
    assert client.get(f"/auditlogview/edit/{row_id}").status_code in (403, 404)
    assert client.post(f"/auditlogview/delete/{row_id}").status_code in (403, 404)
    row = ctx.get(AuditLog, row_id)
    row.summary = "篡改"
    import pytest

    from models.audit import AuditLogImmutableError

    with pytest.raises(AuditLogImmutableError):
        ctx.flush()
    ctx.rollback()


def test_member_role_reaches_only_the_json_api(client_as):
    client = client_as("member")
    for url in ("/memberview/list/", "/orgtree/", "/unitview/list/"):
        assert client.get(url).status_code == 403, url


# --- §2.5 from the attacker's side: the sysadmin reaching business or audit data ------------------
import re  # noqa: E402

import pytest  # noqa: E402
from flask import current_app  # noqa: E402

from app.services.duties import DutyConflictError, SelfAccountChangeError  # noqa: E402
from models.members import Member  # noqa: E402
from models.security import AppUser  # noqa: E402
from tests.factories import base_of, county, make_member, make_user  # noqa: E402


def _role_ids(ctx, *labels):
    sm = current_app.appbuilder.sm
    return [sm.find_role(label).id for label in labels]


def _user_form(user, **changes):
    data = {"first_name": user.first_name, "last_name": user.last_name, "username": user.username,
            "email": user.email, "roles": [r.id for r in user.roles], "active": "y" if user.active else ""}
    if user.org_id:
        data["org"] = str(user.org_id)
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def _form_errors(response) -> str:
    """The field errors FAB renders under each field (not the fields' descriptions)."""
    return " ".join(re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="alert alert-danger">(.*?)</div>',
                                                                           response.get_data(as_text=True), re.S))


def test_sysadmin_cannot_grant_himself_a_business_role(client_as, ctx):
    me = ctx.scalar(select(AppUser).where(AppUser.username == "sysadmin"))
    before = sorted(r.name for r in me.roles)
    client = client_as("sysadmin")
    for extra in ("区县工会管理员", "审计管理员"):
        response = client.post(f"/users/edit/{me.id}", data=_user_form(me, roles=_role_ids(ctx, "系统管理员", extra)))
        assert response.status_code == 200 and "不能由同一账户兼任：" in _form_errors(response), extra
    # nor swap his own role for one (self-grant), nor deactivate himself
    response = client.post(f"/users/edit/{me.id}", data=_user_form(me, roles=_role_ids(ctx, "区县工会管理员")))
    assert "不能修改自己账户的角色" in _form_errors(response)
    response = client.post(f"/users/edit/{me.id}", data=_user_form(me, active=""))
    assert "不能停用或启用自己的账户" in _form_errors(response)
    assert "不能删除自己的账户" in client.post(f"/users/delete/{me.id}", follow_redirects=True).get_data(as_text=True)
    ctx.expire_all()
    me = ctx.get(AppUser, me.id)
    assert sorted(r.name for r in me.roles) == before and me.active
    assert client.get("/memberview/list/").status_code == 403


def test_sysadmin_cannot_build_an_account_combining_duties(client_as, ctx):
    client = client_as("sysadmin")
    data = {"first_name": "双", "last_name": "职", "username": "two_duties", "email": "two@test.invalid", "active": "y",
            "roles": _role_ids(ctx, "审计管理员", "审计员"), "password": "Two-Duties-2026",
            "conf_password": "Two-Duties-2026"}
    response = client.post("/users/add", data=data)
    assert "不能由同一账户兼任：" in _form_errors(response)
    other = make_user(ctx, "审计管理员")
    combined = _user_form(other, roles=_role_ids(ctx, "审计管理员", "财务"))
    response = client.post(f"/users/edit/{other.id}", data=combined)
    assert "不能由同一账户兼任：" in _form_errors(response)
    ctx.expire_all()
    assert ctx.scalar(select(AppUser).where(AppUser.username == "two_duties")) is None
    assert [r.name for r in ctx.get(AppUser, other.id).roles] == ["审计管理员"]


def test_every_other_path_obeys_the_duty_rule(ctx):
    """The service refuses at flush: CLI, seed, provisioning code cannot combine duties either."""
    sm = current_app.appbuilder.sm
    user = make_user(ctx, "财务", county(ctx))
    user.roles.append(sm.find_role("系统管理员"))
    with pytest.raises(DutyConflictError):
        ctx.commit()
    ctx.rollback()
    assert [r.name for r in ctx.get(AppUser, user.id).roles] == ["财务"]
    assert sm.add_user("both_ways", "双", "职", "both@test.invalid", [sm.find_role("系统管理员"), sm.find_role("会员")],
                       password="Both-Ways-2026!") in (None, False)
    ctx.rollback()
    assert sm.find_user(username="both_ways") is None


def test_nobody_changes_his_own_roles_even_outside_the_form(app, ctx):
    from flask import g

    user = make_user(ctx, "财务", county(ctx))
    with app.test_request_context():
        g.user = user
        user.roles.append(current_app.appbuilder.sm.find_role("审计员"))
        with pytest.raises(SelfAccountChangeError):
            ctx.commit()
    ctx.rollback()


def test_user_forms_list_no_members_and_lookups_leak_no_personal_data(client_as, ctx):
    victim = make_member(ctx, base_of(ctx, county(ctx)), name="查无此人")
    client = client_as("sysadmin")
    for url in ("/users/add", f"/users/edit/{ctx.scalar(select(AppUser.id).where(AppUser.username == 'member'))}"):
        page = client.get(url).get_data(as_text=True)
        assert page.count("<option") < 30, url  # the roles, and at most the current binding
        assert victim.name not in page
    found = client.get(f"/users/lookup/member?q={victim.name[:2]}").json
    assert found == [{"id": str(victim.id), "text": f"{victim.name}（{victim.id_number_masked}）"}]
    assert victim.phone not in str(found) and victim.id_number not in str(found)
    assert client.get("/users/lookup/member?q=").json == []  # typing is required: no browsing the registry
    assert client.get(f"/users/lookup/member?q={victim.id_number}").json[0]["id"] == str(victim.id)
    assert ctx.scalar(select(AuditLog).where(AuditLog.event == "id_lookup").order_by(AuditLog.id.desc())).username \
        == "sysadmin"
    assert client.get("/users/lookup/zz").status_code == 404
    # the lookups are the sysadmin's tool only
    for role in ("county_admin", "auditor", "auditadmin"):
        assert client_as(role).get(f"/users/lookup/member?q={victim.name[:2]}").status_code == 403, role


def test_a_forged_binding_id_is_a_form_error(client_as, ctx):
    client = client_as("sysadmin")
    user = make_user(ctx, "会员")
    response = client.post(f"/users/edit/{user.id}", data=_user_form(user, member="2147483647"))
    assert "不存在或不在可选范围内" in _form_errors(response)
    ctx.expire_all()
    assert ctx.get(AppUser, user.id).member_id is None
    assert ctx.get(Member, 2147483647) is None
