"""工作池 (I-8): cases waiting in a status are taken by one handler each.

``take`` is one conditional UPDATE per call: ``SET handler_id = :me WHERE id IN (…) AND
handler_id IS NULL AND status = :pool_status`` — the database decides who wins (on PostgreSQL a
concurrent UPDATE waits for the row lock and re-checks the WHERE on the committed row, so a case
taken meanwhile no longer matches). The rows that matched are the caller's; nothing is read first.
Any model with an ``id``, a status column and a handler column can be pooled. The functions do not
commit: the domain service that calls them does.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, update
from sqlalchemy.orm import Session

from models.base import utcnow


def _ids(case_ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in case_ids})


def take(session: Session, model, case_ids: Iterable[int], user, *, pool_status: str, scope_clause=None,
         status_attr: str = "status", handler_attr: str = "handler_id", taken_attr: str | None = "taken_at") -> list[int]:
    """获取: give every free case of ``case_ids`` in ``pool_status`` (and in scope) to ``user``.

    Returns the ids taken by this call (a case someone else took first is simply not in it).
    """
    ids = _ids(case_ids)
    if not ids:
        return []
    handler = getattr(model, handler_attr)
    where = [model.id.in_(ids), handler.is_(None), getattr(model, status_attr) == pool_status]
    if scope_clause is not None:
        where.append(scope_clause)
    values = {handler_attr: user.id}
    if taken_attr:
        values[taken_attr] = utcnow()
    result = session.execute(update(model).where(and_(*where)).values(**values).returning(model.id)
                             .execution_options(synchronize_session=False))
    return sorted(row[0] for row in result)


def release(session: Session, model, case_ids: Iterable[int], user, *, pool_status: str, scope_clause=None,
            any_handler: bool = False, status_attr: str = "status", handler_attr: str = "handler_id",
            taken_attr: str | None = "taken_at") -> list[int]:
    """释放: back to 待处理 — the caller's own cases, or anyone's when ``any_handler`` (a supervisor)."""
    ids = _ids(case_ids)
    if not ids:
        return []
    handler = getattr(model, handler_attr)
    where = [model.id.in_(ids), getattr(model, status_attr) == pool_status, handler.is_not(None)]
    if not any_handler:
        where.append(handler == user.id)
    if scope_clause is not None:
        where.append(scope_clause)
    values = {handler_attr: None}
    if taken_attr:
        values[taken_attr] = None
    result = session.execute(update(model).where(and_(*where)).values(**values).returning(model.id)
                             .execution_options(synchronize_session=False))
    return sorted(row[0] for row in result)


def reassign(session: Session, model, case_ids: Iterable[int], to_user, *, pool_status: str, scope_clause=None,
             status_attr: str = "status", handler_attr: str = "handler_id",
             taken_attr: str | None = "taken_at") -> list[int]:
    """改派 (supervisor): give the cases in ``pool_status`` to ``to_user``, whoever holds them now."""
    ids = _ids(case_ids)
    if not ids:
        return []
    where = [model.id.in_(ids), getattr(model, status_attr) == pool_status]
    if scope_clause is not None:
        where.append(scope_clause)
    values = {handler_attr: to_user.id}
    if taken_attr:
        values[taken_attr] = utcnow()
    result = session.execute(update(model).where(and_(*where)).values(**values).returning(model.id)
                             .execution_options(synchronize_session=False))
    return sorted(row[0] for row in result)
