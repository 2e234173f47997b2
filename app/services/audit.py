"""Audit log writing: explicit events plus automatic create/update/delete rows.

Models opt in with ``__audited__ = True``; an ``after_flush`` hook records the
changed fields (masked where the model says so) in the same transaction.
"""
from __future__ import annotations

import contextvars
import json
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from models.audit import AuditEvent, AuditLog
from models.base import utcnow

_actor_override: contextvars.ContextVar = contextvars.ContextVar("audit_actor", default=None)
_suspended: contextvars.ContextVar = contextvars.ContextVar("audit_suspended", default=False)
SYSTEM = "系统"


@contextmanager
def acting_as(actor):
    """Attribute automatic audit rows to ``actor`` outside a request (tasks, CLI)."""
    token = _actor_override.set(actor)
    try:
        yield
    finally:
        _actor_override.reset(token)


@contextmanager
def suspended():
    """Skip automatic row-change auditing (bulk demo seeding only)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def current_actor():
    actor = _actor_override.get()
    if actor is not None:
        return actor
    if has_request_context():
        user = getattr(g, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user
    return None


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "id") and hasattr(value, "__tablename__"):
        return f"{value.__tablename__}#{value.id}"
    return value


def _entry(event_name: str, *, actor=None, target_type=None, target_id=None, summary="", detail=None, username=None):
    actor = actor if actor is not None else current_actor()
    ip = request.remote_addr if has_request_context() else None
    return AuditLog(
        user_id=getattr(actor, "id", None),
        username=username or getattr(actor, "username", None) or SYSTEM,
        event=str(event_name),
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        summary=(summary or "")[:255],
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        ip=ip,
    )


def entry_values(event_name: AuditEvent, **kwargs) -> dict:
    """One audit row as a dict, for bulk Core inserts (imports)."""
    entry = _entry(event_name, **kwargs)
    return {c: getattr(entry, c) for c in ("user_id", "username", "event", "target_type", "target_id",
                                            "summary", "detail", "ip")} | {"at": utcnow()}


def record(session: Session, event_name: AuditEvent, **kwargs) -> AuditLog:
    """Add one audit row to ``session``; it commits with the caller's transaction."""
    entry = _entry(event_name, **kwargs)
    session.add(entry)
    return entry


def record_now(session: Session, event_name: AuditEvent, **kwargs) -> None:
    """Write one audit row in its own commit (logins, refusals: nothing else to commit)."""
    session.add(_entry(event_name, **kwargs))
    session.commit()


def _changes(obj) -> dict:
    masked = getattr(obj, "__audit_masked__", {})
    changes = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if not hist.has_changes() or attr.key in ("updated_at",):
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        mask = masked.get(attr.key)
        if mask:
            old, new = mask(old), mask(new)
        changes[attr.key] = [_plain(old), _plain(new)]
    return changes


def _snapshot(obj) -> dict:
    masked = getattr(obj, "__audit_masked__", {})
    out = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        if value is None:
            continue
        mask = masked.get(attr.key)
        out[attr.key] = mask(value) if mask else _plain(value)
    return out


@event.listens_for(Session, "after_flush")
def _audit_row_changes(session, flush_context):
    # after_flush: new rows have their ids and attribute history is still intact;
    # the rows added here are flushed by the commit's next flush pass.
    if _suspended.get():
        return
    for obj in list(session.new):
        if getattr(obj, "__audited__", False):
            session.add(_entry(AuditEvent.CREATE, target_type=obj.__tablename__, target_id=obj.id,
                               summary=f"新增 {obj}", detail=_snapshot(obj)))
    for obj in list(session.dirty):
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            changes = _changes(obj)
            if changes:
                session.add(_entry(AuditEvent.UPDATE, target_type=obj.__tablename__, target_id=obj.id,
                                   summary=f"修改 {obj}: {', '.join(changes)}", detail=changes))
    for obj in list(session.deleted):
        if getattr(obj, "__audited__", False):
            session.add(_entry(AuditEvent.DELETE, target_type=obj.__tablename__, target_id=obj.id,
                               summary=f"删除 {obj}", detail=_snapshot(obj)))
