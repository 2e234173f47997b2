"""Login hardening FAB lacks: lockout, idle timeout, password policy, CSRF, secret key."""
import time

import pytest
from sqlalchemy import select

from app.validators import ValidationError
from models.audit import AuditLog
from models.base import utcnow
from models.security import AppUser
from tests.conftest import csrf_token, login
from tests.factories import county, make_user


def _events(ctx, username):
    return [r.event for r in ctx.scalars(select(AuditLog).where(AuditLog.username == username).order_by(AuditLog.id))]


def test_five_failed_logins_lock_the_account_for_30_minutes(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    client = app.test_client()
    for _ in range(5):
        assert "/login" in login(client, user.username, "Wrong-password-1").headers["Location"]
    ctx.expire_all()
    locked = ctx.get(AppUser, user.id)
    assert locked.locked_until is not None
    minutes = (locked.locked_until - utcnow()).total_seconds() / 60
    assert 29 < minutes <= 30
    # even the right password is refused while locked, with a Chinese message
    response = login(client, user.username)
    assert "/login" in response.headers["Location"]
    html = client.get("/login/").get_data(as_text=True)
    assert "账户因多次登录失败已锁定" in html
    events = _events(ctx, user.username)
    assert events.count("login_failed") == 6 and events.count("lockout") == 1


def test_lock_expires_and_success_resets(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    user.locked_until = utcnow().replace(year=2000)
    ctx.commit()
    client = app.test_client()
    assert "/login" not in login(client, user.username).headers["Location"]
    assert _events(ctx, user.username)[-1] == "login_ok"


def test_logout_is_audited(client_as, ctx):
    client = client_as("auditor")
    client.get("/logout/")
    assert _events(ctx, "auditor")[-2:] == ["login_ok", "logout"]


def test_unknown_username_is_audited_as_failure(app, ctx):
    login(app.test_client(), "nobody-here", "Whatever-123")
    assert "login_failed" in _events(ctx, "nobody-here")


def test_idle_session_times_out_after_15_minutes(app, client_as, ctx):
    client = client_as("auditor")
    assert client.get("/memberview/list/").status_code == 200
    with client.session_transaction() as sess:
        sess["_last_seen"] = time.time() - 16 * 60
    response = client.get("/memberview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "session_timeout" in _events(ctx, "auditor")
    assert "/login" in client.get("/memberview/list/").headers["Location"]


def test_active_session_within_15_minutes_stays(client_as):
    client = client_as("auditor")
    with client.session_transaction() as sess:
        sess["_last_seen"] = time.time() - 14 * 60
    assert client.get("/memberview/list/").status_code == 200


def test_password_policy_applies_to_every_account_creation(ctx):
    from flask import current_app

    sm = current_app.appbuilder.sm
    with pytest.raises(ValidationError, match="至少10位"):
        sm.add_user("weakpw", "弱", "密码", "weak@test.invalid", sm.find_role("审计员"), password="admin")
    assert sm.find_user(username="weakpw") is None


def test_csrf_is_enforced_on_posts(csrf_app, ctx):
    client = csrf_app.test_client()
    token = csrf_token(client, "/login/")
    client.post("/login/", data={"username": "county_admin", "password": "Union@2026demo", "csrf_token": token})
    member_id = ctx.scalar(select(AppUser.member_id).where(AppUser.username == "member"))
    response = client.post(f"/memberview/delete/{member_id}", headers={"Referer": "http://localhost/memberview/list/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/memberview/list/")
    assert "页面已过期" in client.get("/memberview/list/").get_data(as_text=True)
    # GET mutations are refused outright
    response = client.get(f"/memberview/delete/{member_id}")
    assert response.status_code in (302, 405)
    from models.members import Member

    ctx.expire_all()
    assert ctx.get(Member, member_id) is not None


def test_login_without_csrf_token_is_refused_with_a_notice(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login/", data={"username": "county_admin", "password": "Union@2026demo"},
                           headers={"Referer": "http://localhost/login/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/")
    page = client.get("/login/").get_data(as_text=True)
    assert "页面已过期" in page and "county_admin" not in page  # refused, not logged in
    api = client.post("/api/v1/member-vouchers/activities/1/claim")  # JWT APIs are CSRF-exempt: 401
    assert api.status_code == 401 and api.json["code"] == "unauthenticated"


def test_no_default_admin_account(ctx):
    assert ctx.scalar(select(AppUser).where(AppUser.username == "admin")) is None
