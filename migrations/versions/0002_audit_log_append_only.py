"""The audit log is append-only in PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE
(sealing a row into the hash chain excepted). Hand-written: kept when 0001 is regenerated.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from models.audit import APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGERS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(APPEND_ONLY_FUNCTION)
    for statement in APPEND_ONLY_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
