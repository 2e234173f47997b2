"""The API's per-process caches (app/caches.py) never let a token outlive what it may do:
an expired token is refused though it was accepted a moment ago; an account changed through this
process is refused at once; one changed behind its back (another process) within USER_CACHE_SECONDS."""
import time
from datetime import timedelta

from flask_jwt_extended import create_access_token
from sqlalchemy import update

from app import caches
from models.security import AppUser
from tests.factories import county, make_user


def _token(app, user, **kwargs):
    with app.test_request_context():
        return create_access_token(identity=str(user.id), **kwargs)


def _me(app, token):
    return app.test_client().get("/api/v1/member/", headers={"Authorization": f"Bearer {token}"})


def test_an_expired_token_is_refused_though_it_was_just_accepted(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    token = _token(app, user, expires_delta=timedelta(seconds=1))
    assert _me(app, token).status_code == 200
    time.sleep(1.2)
    answer = _me(app, token)
    assert answer.status_code == 401
    assert answer.json["message"]  # a Chinese message, not a stack trace


def test_a_forged_copy_of_an_accepted_token_is_refused(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    token = _token(app, user)
    assert _me(app, token).status_code == 200
    head, body, signature = token.split(".")
    assert _me(app, f"{head}.{body}.{signature[:-2]}AA").status_code in (401, 422)


def test_deactivation_through_the_app_is_refused_at_once(app, ctx):
    user = make_user(ctx, "审计员", county(ctx))
    token = _token(app, user)
    ctx.expunge_all()
    assert _me(app, token).status_code == 200  # the account is now cached
    user = ctx.get(AppUser, user.id)
    user.active = False
    ctx.commit()
    ctx.expunge_all()  # only the flush of this process told the cache
    assert _me(app, token).status_code == 401


def test_a_change_by_another_process_applies_within_the_cache_seconds(app, ctx, monkeypatch):
    user = make_user(ctx, "审计员", county(ctx))
    token = _token(app, user)
    ctx.expunge_all()  # (this test's session is the requests' one: the account is read as a request reads it)
    assert _me(app, token).status_code == 200
    # another process deactivates the account: no flush of this process sees it
    ctx.execute(update(AppUser).where(AppUser.id == user.id).values(active=False),
                execution_options={"synchronize_session": False})
    ctx.commit()
    ctx.expunge_all()
    assert _me(app, token).status_code == 200  # still cached here: the documented window
    later = time.monotonic() + app.config["USER_CACHE_SECONDS"] + 0.1
    monkeypatch.setattr(caches.time, "monotonic", lambda: later)
    assert _me(app, token).status_code == 401


def test_the_cached_account_is_a_full_account_in_the_request(app, ctx):
    """A cached account still reaches what hangs off it (its org, its roles) in the request."""
    from tests.factories import base_of, make_member

    union = base_of(ctx, county(ctx), 0)
    person = make_member(ctx, union)
    user = make_user(ctx, "会员", union, member_id=person.id)
    token = _token(app, user)
    ctx.expunge_all()
    first, second = _me(app, token), _me(app, token)  # the second from the cache
    assert first.status_code == second.status_code
    assert first.json == second.json
