"""§1.6: the sysadmin creates accounts and resets passwords; everyone changes his own password,
proving the old one first. Through the real forms with CSRF enforced, as in production."""
import re

from flask import current_app
from sqlalchemy import select

from models.audit import AuditLog
from models.security import AppUser
from seed.loader import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import county, make_user


def _login(app, username, password):
    client = app.test_client()
    token = csrf_token(client, "/login/") if app.config["WTF_CSRF_ENABLED"] else ""
    response = client.post("/login/", data={"username": username, "password": password, "csrf_token": token})
    return client, "/login" not in response.headers.get("Location", "/login")


def _errors(response) -> str:
    return " ".join(re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="alert alert-danger">(.*?)</div>',
                                                                           response.get_data(as_text=True), re.S))


def test_sysadmin_creates_an_account_bound_to_an_org_who_then_changes_his_password(csrf_app, ctx):
    sm = current_app.appbuilder.sm
    org = county(ctx)
    admin, ok = _login(csrf_app, "sysadmin", DEMO_PASSWORD)
    assert ok
    form = {"first_name": "新", "last_name": "会计", "username": "new_finance", "email": "nf@test.invalid",
            "active": "y", "roles": [sm.find_role("财务").id], "org": str(org.id),
            "password": "weak", "conf_password": "weak", "csrf_token": csrf_token(admin, "/users/add")}
    refused = admin.post("/users/add", data=form)
    assert refused.status_code == 200 and "密码至少10位" in _errors(refused)
    form.update(password="Finance-2026-ok", conf_password="Finance-2026-ok")
    assert admin.post("/users/add", data=form).status_code == 302
    user = ctx.scalar(select(AppUser).where(AppUser.username == "new_finance"))
    assert user.org_id == org.id and [r.name for r in user.roles] == ["财务"]
    assert "新增账户 new_finance" in ctx.scalar(select(AuditLog.summary).where(AuditLog.target_type == "ab_user",
                                                                               AuditLog.target_id == str(user.id)))

    clerk, ok = _login(csrf_app, "new_finance", "Finance-2026-ok")
    assert ok and clerk.get("/orgview/list/").status_code == 200
    page = clerk.get("/resetmypassword/form").get_data(as_text=True)
    assert "原密码" in page and "新密码" in page
    token = csrf_token(clerk, "/resetmypassword/form")
    wrong = clerk.post("/resetmypassword/form", data={"old_password": "Not-my-password-1",
                                                      "password": "Finance-2027-ok",
                                                      "conf_password": "Finance-2027-ok", "csrf_token": token})
    assert "原密码不正确" in _errors(wrong)
    same = clerk.post("/resetmypassword/form", data={"old_password": "Finance-2026-ok", "password": "Finance-2026-ok",
                                                     "conf_password": "Finance-2026-ok", "csrf_token": token})
    assert "新密码不能与原密码相同" in _errors(same)
    done = clerk.post("/resetmypassword/form", data={"old_password": "Finance-2026-ok", "password": "Finance-2027-ok",
                                                     "conf_password": "Finance-2027-ok", "csrf_token": token})
    assert done.status_code == 302
    assert "密码已修改" in clerk.get("/orgview/list/").get_data(as_text=True)
    assert not _login(csrf_app, "new_finance", "Finance-2026-ok")[1]
    assert _login(csrf_app, "new_finance", "Finance-2027-ok")[1]
    assert ctx.scalar(select(AuditLog.summary).where(AuditLog.event == "password", AuditLog.username == "new_finance"))


def test_wrong_old_passwords_count_as_failed_logins(app, ctx):
    """A stolen session cannot guess the password through the change form: five misses lock the account."""
    user = make_user(ctx, "财务", county(ctx))
    client, ok = _login(app, user.username, DEMO_PASSWORD)
    for _ in range(current_app.config["LOGIN_MAX_FAILURES"]):
        client.post("/resetmypassword/form", data={"old_password": "Guess-123456", "password": "Guessed-2026-x",
                                                   "conf_password": "Guessed-2026-x"})
    ctx.expire_all()
    assert ctx.get(AppUser, user.id).locked_until is not None
    assert client.get("/orgview/list/").status_code == 302  # and the stolen session is over


def test_sysadmin_resets_another_password_but_never_his_own_without_the_old_one(client_as, app, ctx):
    user = make_user(ctx, "财务", county(ctx))
    admin = client_as("sysadmin")
    assert "重置密码" in admin.get(f"/resetpassword/form?pk={user.id}").get_data(as_text=True)
    weak = admin.post(f"/resetpassword/form?pk={user.id}", data={"password": "abc", "conf_password": "abc"})
    assert "密码至少10位" in _errors(weak)
    done = admin.post(f"/resetpassword/form?pk={user.id}", data={"password": "Reset-2026-pass",
                                                                 "conf_password": "Reset-2026-pass"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/users/show/{user.id}")
    assert _login(app, user.username, "Reset-2026-pass")[1]
    me = ctx.scalar(select(AppUser.id).where(AppUser.username == "sysadmin"))
    own = admin.post(f"/resetpassword/form?pk={me}", data={"password": "Hijack-2026-pass",
                                                           "conf_password": "Hijack-2026-pass"})
    assert own.status_code == 302 and "/resetmypassword/form" in own.headers["Location"]
    assert _login(app, "sysadmin", DEMO_PASSWORD)[1]
    for pk in ("", "abc", "99999999999999999999", "2147483647"):
        assert admin.get(f"/resetpassword/form?pk={pk}").status_code == 404, pk
    # only the sysadmin resets others' passwords
    assert client_as("county_admin").get(f"/resetpassword/form?pk={user.id}").status_code == 403


def test_sysadmin_binds_and_deactivates_an_account_through_the_edit_form(app, client_as, ctx):
    from tests.factories import base_of, make_member

    member = make_member(ctx, base_of(ctx, county(ctx)))
    user = make_user(ctx, "会员")
    victim_session, _ = _login(app, user.username, DEMO_PASSWORD)
    assert victim_session.get("/users/userinfo/").status_code == 200
    admin = client_as("sysadmin")
    form = {"first_name": user.first_name, "last_name": user.last_name, "username": user.username,
            "email": user.email, "roles": [r.id for r in user.roles], "active": "y", "member": str(member.id)}
    assert admin.post(f"/users/edit/{user.id}", data=form).status_code == 302
    ctx.expire_all()
    assert ctx.get(AppUser, user.id).member_id == member.id
    del form["active"]
    assert admin.post(f"/users/edit/{user.id}", data=form).status_code == 302
    ctx.expire_all()
    assert not ctx.get(AppUser, user.id).active
    assert victim_session.get("/users/userinfo/").status_code == 302  # deactivated: his session is over
    summaries = ctx.scalars(select(AuditLog.summary).where(AuditLog.target_type == "ab_user",
                                                           AuditLog.target_id == str(user.id))).all()
    assert any("停用" in s for s in summaries)
