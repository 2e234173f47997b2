"""The audit log: the database refuses changes (PostgreSQL), and a change made around that
(with the owner's rights) is found by ``flask audit-verify``."""
from contextlib import contextmanager

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.services import audit, audit_chain
from models.audit import AuditEvent, AuditLog


@contextmanager
def owner_rights():
    """A connection that bypasses the trigger, as the table's owner (a superuser) could."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        yield connection


def _verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit-verify", *args])


def _sealed_row(ctx, offset):
    audit_chain.seal(ctx)
    row = ctx.execute(select(AuditLog.__table__).where(AuditLog.chain_no.is_not(None))
                      .order_by(AuditLog.chain_no.desc()).offset(offset).limit(1)).one()
    ctx.rollback()  # no lock held on the table while another connection works on it
    return row


def test_database_refuses_update_delete_and_truncate_of_the_audit_log(ctx):
    if ctx.get_bind().dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    row = _sealed_row(ctx, 0)
    for statement in ("UPDATE audit_log SET summary = 'x' WHERE id = :id", "DELETE FROM audit_log WHERE id = :id",
                      "UPDATE audit_log SET chain_no = NULL, hash = NULL WHERE id = :id", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement), {"id": row.id})
    assert ctx.execute(select(AuditLog.summary, AuditLog.hash).where(AuditLog.id == row.id)).one() == (
        row.summary, row.hash)


def test_audit_verify_finds_an_edited_row_and_a_deleted_one(app, ctx):
    audit.record_now(ctx, AuditEvent.ACTION, summary="链上第一条")
    audit.record_now(ctx, AuditEvent.ACTION, summary="链上第二条")
    result = _verify(app)
    assert result.exit_code == 0 and "哈希链完整" in result.output, result.output
    edited = _sealed_row(ctx, 3)
    with owner_rights() as connection:
        connection.execute(text("UPDATE audit_log SET summary = '改过的摘要' WHERE id = :id"), {"id": edited.id})
    result = _verify(app, "--no-seal")
    assert result.exit_code == 1 and f"id={edited.id}" in result.output and "被修改" in result.output
    with owner_rights() as connection:
        connection.execute(text("UPDATE audit_log SET summary = :s WHERE id = :id"),
                           {"s": edited.summary, "id": edited.id})
    assert _verify(app, "--no-seal").exit_code == 0
    deleted, after = _sealed_row(ctx, 2), _sealed_row(ctx, 1)
    with owner_rights() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": deleted.id})
    result = _verify(app, "--no-seal")
    assert result.exit_code == 1 and f"id={after.id}" in result.output and "缺失" in result.output
    with owner_rights() as connection:
        connection.execute(insert(AuditLog.__table__).values(**deleted._mapping))
    assert _verify(app).exit_code == 0


def test_rows_committed_out_of_id_order_join_the_chain_later(app, ctx):
    """A long transaction's row (lower id) commits after a later one was sealed: it gets a later position."""
    if ctx.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: ids commit in order")
    late = db.engine.connect()
    transaction = late.begin()
    late.execute(insert(AuditLog.__table__).values(event="action", username="系统", summary="长事务",
                                                   at=ctx.scalar(select(AuditLog.at).limit(1))))
    audit.record_now(ctx, AuditEvent.ACTION, summary="短事务")
    audit_chain.seal(ctx)
    transaction.commit()
    late.close()
    assert audit_chain.seal(ctx) == 1
    verdict = audit_chain.verify(ctx)
    assert verdict.ok and verdict.unsealed == 0
    late_no, short_no = (ctx.scalar(select(AuditLog.chain_no).where(AuditLog.summary == s)) for s in ("长事务", "短事务"))
    assert late_no > short_no
