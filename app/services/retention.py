"""File retention (beat, every ``RETENTION_SECONDS``): old files and orphans leave the store.

- A file older than its kind's ``RETENTION_DAYS`` (uploads 90, results and exports 7 by
  default) is removed and the row that named it forgets the name (the job keeps its counts
  and message; its page no longer offers the download). Files of jobs still waiting or running
  are never touched.
- An orphan (no row names it) older than ``ORPHAN_GRACE_HOURS`` is removed: the grace covers a
  file stored a moment before its row commits. Only kinds some column declares are scanned
  for orphans: a column names its kinds with ``info={"file_kinds": ("images",)}``.
- Scratch files older than the grace (a process killed mid-write) are removed.
- The audit log is never touched here: it is kept (等保 2.0 asks for at least six months).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.storage import KINDS, store
from models import Model
from models.base import utcnow
from models.imports import DataJob, JobStatus

log = logging.getLogger(__name__)
ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)


def file_columns() -> dict[str, list]:
    """Store kind → the columns that name files of that kind (declared in the models)."""
    columns = defaultdict(list)
    for table in Model.metadata.tables.values():
        for column in table.columns:
            for kind in column.info.get("file_kinds", ()):
                columns[kind].append(column)
    return columns


def _referenced(session: Session, columns) -> tuple[set[str], set[str]]:
    """(names referenced by any row, names referenced by an active job)."""
    names, active = set(), set()
    for column in columns:
        for name in session.scalars(select(column).where(column.is_not(None))):
            names.add(name)
        if column.table is DataJob.__table__:
            active.update(session.scalars(select(column).where(column.is_not(None), DataJob.status.in_(ACTIVE))))
    return names, active


def apply_retention(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Remove expired files, orphans and stale scratch files; returns the count removed per kind."""
    cfg = current_app.config
    now = now or utcnow()
    grace = now - timedelta(hours=cfg["ORPHAN_GRACE_HOURS"])
    files, columns, removed = store(), file_columns(), {}
    for kind in KINDS:
        days = cfg["RETENTION_DAYS"].get(kind)
        expiry = now - timedelta(days=days) if days else None
        if expiry is None and kind not in columns:
            continue  # kept forever and nobody declares its references: nothing to decide
        names, active = _referenced(session, columns.get(kind, ()))
        expired = []
        for stored in files.list(kind):
            if stored.name in active:
                continue
            old = expiry is not None and stored.modified < expiry
            orphan = kind in columns and stored.name not in names and stored.modified < grace
            if old or orphan:
                files.delete(kind, stored.name)
                expired.append(stored.name)
        _forget(session, columns.get(kind, ()), expired)
        removed[kind] = len(expired)
    for stored in files.scratch_files():
        if stored.modified < grace:
            files.delete_scratch(stored.name)
            removed["tmp"] = removed.get("tmp", 0) + 1
    session.commit()
    if any(removed.values()):
        log.info("retention removed %s", removed)
    return removed


def _forget(session: Session, columns, names: list[str]) -> None:
    """Rows stop naming files that are gone."""
    for start in range(0, len(names), 1000):
        chunk = names[start:start + 1000]
        for column in columns:
            session.execute(update(column.table).where(column.in_(chunk)).values({column.name: None}))
