"""Per-process caches on the API's hot path: every JWT request decodes its token and loads its user.

- Decoded tokens: a token string decodes to the same claims every time (same key, signature checked
  once), so a verified token's claims are kept; its expiry is still checked on every use.
- API users: the account with its roles is kept for ``USER_CACHE_SECONDS`` (default 3) and merged
  into each request's session without a query. Any change to an account flushed by this process
  (deactivation, logout, password change, lockout, roles) drops it at once; a change made by another
  process takes effect here within those seconds (as role grants do within
  ``PERMISSION_CACHE_SECONDS``). 0 turns the user cache off.

Each app has its own caches (one JWT manager, one security manager): nothing is shared between
apps with other keys or other databases.
"""
from __future__ import annotations

import threading
import time
import weakref
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

_MAX = 4096  # entries per cache; a full cache starts again (tokens are short-lived anyway)


class _Bounded(dict):
    def put(self, key, value) -> None:
        if len(self) >= _MAX:
            self.clear()
        self[key] = value


def cached_decoder(decode):
    """Wrap flask-jwt-extended's ``JWTManager._decode_jwt_from_config``: a token verified once is not
    verified again; an expired or not-yet-valid one goes back to ``decode`` (which raises the error)."""
    verified = _Bounded()

    def decode_cached(encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        key = (encoded_token, csrf_value)
        claims = verified.get(key)
        if claims is not None and (allow_expired or _in_validity(claims)):
            return dict(claims)
        claims = decode(encoded_token, csrf_value, allow_expired)
        if _in_validity(claims):
            verified.put(key, dict(claims))
        return claims

    return decode_cached


def _in_validity(claims: dict) -> bool:
    leeway = current_app.config.get("JWT_DECODE_LEEWAY", 0)
    leeway = leeway.total_seconds() if hasattr(leeway, "total_seconds") else leeway
    now = datetime.now(timezone.utc).timestamp()
    return claims.get("exp", now + 1) > now - leeway and claims.get("nbf", now) <= now + leeway


_caches: weakref.WeakSet = weakref.WeakSet()


class UserCache:
    """The API's accounts by id, each a detached copy (in no session, so the commits of the requests
    that use it never expire it) merged into the asking request's session."""

    def __init__(self):
        self._users = _Bounded()
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, session: Session, pk: int, load):
        """The account ``pk`` in ``session``: from the cache while fresh, else ``load(session, pk)``."""
        ttl = current_app.config.get("USER_CACHE_SECONDS", 3)
        hit = self._users.get(pk) if ttl else None
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return session.merge(hit[1], load=False)
        user = load(session, pk)
        if ttl and user is not None:
            with Session() as copies:  # no database: a copy of what was just loaded
                copy = copies.merge(user, load=False)
                copies.expunge_all()
            with self._lock:
                self._users.put(pk, (time.monotonic(), copy))
        return user

    def forget(self, pk) -> None:
        self._users.pop(pk, None)

    def clear(self) -> None:
        self._users.clear()


def install(user_model) -> None:
    """Drop an account from every cache whenever this process flushes a change to it or its roles."""

    @event.listens_for(Session, "after_flush")
    def _forget_changed(session, _context):
        changed = [obj.id for obj in (*session.dirty, *session.deleted) if isinstance(obj, user_model)]
        for cache in list(_caches) if changed else ():
            for pk in changed:
                cache.forget(pk)
