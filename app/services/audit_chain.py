"""The audit log's hash chain: an edit or deletion made with the table owner's rights shows.

Writers insert audit rows as they always did (ORM rows, Core bulk inserts from imports) and
never wait for each other. ``seal`` (beat, every ``AUDIT_SEAL_SECONDS``; and ``flask
audit-verify``) then chains the committed rows that have no position yet, in id order, under
one lock (a PostgreSQL advisory lock; the unique ``chain_no`` refuses a second sealer anywhere):

    chain_no = previous + 1,  prev_hash = previous row's hash,
    hash = HMAC-SHA256(AUDIT_CHAIN_KEY, prev_hash | canonical JSON of the row with its chain_no)

A row committed late (a long transaction with a lower id) simply gets a later position: the chain
follows ``chain_no``, not ids. ``verify`` walks it: a changed row fails its hash, a deleted row
leaves a gap in ``chain_no`` and a broken ``prev_hash`` link. With the key kept outside the
database, someone who can write the table cannot recompute the chain either. The newest rows are
unprotected only until the next seal; the head (position and hash) is logged at every seal, so
a copy of the log outside the database also shows a truncated tail.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import timezone

from flask import current_app
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from models.audit import AuditLog

log = logging.getLogger(__name__)
GENESIS = "0" * 64
SEAL_LOCK = 0x61756469  # pg_advisory_xact_lock key of the sealer ("audi")
CHUNK = 5000
_CONTENT = ("id", "at", "user_id", "username", "event", "target_type", "target_id", "summary", "detail", "ip")
_table = AuditLog.__table__


def _canonical(row, chain_no: int) -> bytes:
    values = {c: getattr(row, c) for c in _CONTENT}
    values["at"] = values["at"].astimezone(timezone.utc).isoformat(timespec="microseconds")
    values["chain_no"] = chain_no
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def row_hash(row, chain_no: int, prev_hash: str) -> str:
    key = current_app.config["AUDIT_CHAIN_KEY"].encode()
    return hmac.new(key, prev_hash.encode() + b"|" + _canonical(row, chain_no), hashlib.sha256).hexdigest()


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(select(_table.c.chain_no, _table.c.hash).where(_table.c.chain_no.is_not(None))
                          .order_by(_table.c.chain_no.desc()).limit(1)).first()
    return (row.chain_no, row.hash) if row else (0, GENESIS)


def seal(session: Session) -> int:
    """Chain every committed row that has no position yet; returns how many were sealed."""
    sealed = 0
    while True:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK})
        number, prev = _head(session)
        rows = session.execute(select(_table).where(_table.c.chain_no.is_(None)).order_by(_table.c.id)
                               .limit(CHUNK)).all()
        if not rows:
            session.commit()
            break
        values = []
        for row in rows:
            number += 1
            digest = row_hash(row, number, prev)
            values.append({"b_id": row.id, "b_no": number, "b_prev": prev, "b_hash": digest})
            prev = digest
        session.execute(update(_table).where(_table.c.id == bindparam("b_id"), _table.c.chain_no.is_(None))
                        .values(chain_no=bindparam("b_no"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
                        values)
        session.commit()
        sealed += len(values)
        log.info("audit chain sealed to %s, head hash %s", number, prev)
    return sealed


@dataclass
class Verdict:
    ok: bool
    checked: int
    unsealed: int
    broken_id: int | None = None
    broken_no: int | None = None
    reason: str = ""
    head_hash: str = GENESIS


def verify(session: Session) -> Verdict:
    """Walk the chain in order; the first row whose position, link or hash is wrong is reported."""
    expected_no, prev, checked = 1, GENESIS, 0
    while True:
        rows = session.execute(select(_table).where(_table.c.chain_no >= expected_no)
                               .order_by(_table.c.chain_no).limit(CHUNK)).all()
        for row in rows:
            problem = None
            if row.chain_no != expected_no:
                problem = f"序号 {expected_no} 至 {row.chain_no - 1} 的记录缺失（被删除）"
            elif row.prev_hash != prev:
                problem = "与前一条记录的链接不符（前一条记录被修改或替换）"
            elif row.hash != row_hash(row, row.chain_no, prev):
                problem = "记录内容与其哈希不符（被修改）"
            if problem:
                return Verdict(False, checked, _unsealed(session), row.id, row.chain_no, problem, prev)
            expected_no, prev, checked = row.chain_no + 1, row.hash, checked + 1
        if len(rows) < CHUNK:
            return Verdict(True, checked, _unsealed(session), head_hash=prev)


def _unsealed(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_table).where(_table.c.chain_no.is_(None)))
