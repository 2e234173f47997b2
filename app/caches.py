"""Per-process caches on hot paths: every JWT request decodes its token and loads its user; every
疗休养 declaration reads its year's policy.

- Decoded tokens: a token string decodes to the same claims every time (same key, signature checked
  once), so a verified token's claims are kept; its expiry is still checked on every use.
- API users: the account with its roles is kept for ``USER_CACHE_SECONDS`` (default 3) and merged
  into each request's session without a query. Any change to an account flushed by this process
  (deactivation, logout, password change, lockout, roles) drops it at once; a change made by another
  process takes effect here within those seconds (as role grants do within
  ``PERMISSION_CACHE_SECONDS``). 0 turns the user cache off.
- Rows read on every request of a flow and rarely changed (the year's 疗休养 policy,
  ``POLICY_CACHE_SECONDS``): the same ``RowCache``.

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


class RowCache:
    """Rows of one model by key, each a detached copy (in no session, so the commits of the requests
    that use it never expire it) merged into the asking request's session. Fresh for the config
    setting ``ttl_setting`` seconds; a row of the model flushed by this process drops its key."""

    def __init__(self, model, *, ttl_setting: str, key_of=lambda row: row.id, default_ttl: int = 3):
        self.model, self.ttl_setting, self.key_of, self.default_ttl = model, ttl_setting, key_of, default_ttl
        self._rows = _Bounded()
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, session: Session, key, load):
        """The row ``key`` in ``session``: from the cache while fresh, else ``load(session, key)``."""
        ttl = current_app.config.get(self.ttl_setting, self.default_ttl)
        if not ttl:
            return load(session, key)
        slot = (session.get_bind(), key)  # (one database's rows: apps in one process may differ)
        hit = self._rows.get(slot)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return session.merge(hit[1], load=False)
        row = load(session, key)
        if row is not None:
            with Session() as copies:  # no database: a copy of what was just loaded
                copy = copies.merge(row, load=False)
                copies.expunge_all()
            with self._lock:
                self._rows.put(slot, (time.monotonic(), copy))
        return row

    def forget(self, session: Session, row) -> None:
        self._rows.pop((session.get_bind(), self.key_of(row)), None)


@event.listens_for(Session, "after_flush")
def _forget_changed(session, _context):
    """A row changed (or its relationships, e.g. an account's roles) by this process: every cache of
    its model drops it."""
    changed = [*session.dirty, *session.deleted]
    if not changed or not _caches:
        return
    for cache in list(_caches):
        for obj in changed:
            if isinstance(obj, cache.model):
                cache.forget(session, obj)
