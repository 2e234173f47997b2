"""§2.6 from the attacker's side: a session cookie or token captured before the account ended its
sessions (logout, password change, lockout, deactivation) no longer works, server-side."""
from datetime import timedelta

import pytest
from flask import current_app
from flask_jwt_extended import decode_token
from sqlalchemy import select

from models.security import AppUser
from seed.loader import DEMO_PASSWORD
from tests.conftest import login
from tests.factories import county, make_user


def _captured(app, username, password=DEMO_PASSWORD):
    """A logged-in browser cookie, and API tokens, as an attacker would copy them."""
    client = app.test_client()
    assert "/login" not in login(client, username, password).headers["Location"]
    cookie = client.get_cookie("session").value
    tokens = client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                         "provider": "db", "refresh": True}).json
    return client, cookie, tokens


def _replay_page(app, cookie):
    attacker = app.test_client()
    attacker.set_cookie("session", cookie)
    return attacker.get("/memberview/list/")


def _replay_api(app, tokens):
    attacker = app.test_client()
    me = attacker.get("/api/v1/member/", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    refresh = attacker.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    return me, refresh


def _assert_revoked(app, cookie, tokens):
    page = _replay_page(app, cookie)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    me, refresh = _replay_api(app, tokens)
    assert me.status_code == 401 and refresh.status_code == 401
    assert "access_token" not in (refresh.json or {})


def test_a_cookie_captured_before_logout_is_dead_after_it(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    client, cookie, tokens = _captured(app, user.username)
    assert _replay_page(app, cookie).status_code == 200  # the capture works while the user is logged in
    assert _replay_api(app, tokens)[0].status_code == 200
    client.get("/logout/")
    _assert_revoked(app, cookie, tokens)
    # a new login works again (and is not revoked by the old logout)
    assert _captured(app, user.username)[0].get("/memberview/list/").status_code == 200


def test_password_change_ends_every_other_session(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    _, cookie, tokens = _captured(app, user.username)
    mine, _, _ = _captured(app, user.username)
    response = mine.post("/resetmypassword/form", data={"old_password": DEMO_PASSWORD, "password": "Changed-Pass-2026",
                                                        "conf_password": "Changed-Pass-2026"})
    assert response.status_code == 302
    _assert_revoked(app, cookie, tokens)
    assert mine.get("/memberview/list/").status_code == 200  # the session that changed it goes on


def test_admin_password_reset_ends_the_users_sessions(app, client_as, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    _, cookie, tokens = _captured(app, user.username)
    admin = client_as("sysadmin")
    response = admin.post(f"/resetpassword/form?pk={user.id}", data={"password": "Reset-Pass-2026",
                                                                     "conf_password": "Reset-Pass-2026"})
    assert response.status_code == 302
    _assert_revoked(app, cookie, tokens)


def test_lockout_ends_the_sessions_an_attacker_already_holds(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    _, cookie, tokens = _captured(app, user.username)
    guesser = app.test_client()
    for _ in range(current_app.config["LOGIN_MAX_FAILURES"]):
        login(guesser, user.username, "Wrong-Pass-123")
    _assert_revoked(app, cookie, tokens)


def test_deactivation_ends_sessions_for_good(app, client_as, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    _, cookie, tokens = _captured(app, user.username)
    user.active = False
    ctx.commit()
    user.active = True  # reactivated: the old sessions stay dead
    ctx.commit()
    _assert_revoked(app, cookie, tokens)


@pytest.mark.parametrize("kind, limit", [("access", timedelta(minutes=15)), ("refresh", timedelta(days=7))])
def test_tokens_are_short_lived(app, ctx, kind, limit):
    user = make_user(ctx, "审计员", county(ctx))
    _, _, tokens = _captured(app, user.username)
    claims = decode_token(tokens[f"{kind}_token"])
    assert timedelta(seconds=claims["exp"] - claims["iat"]) <= limit
    assert claims["epoch"] == ctx.scalar(select(AppUser.session_epoch).where(AppUser.id == user.id))
