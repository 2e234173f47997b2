"""审计日志: append-only. No view or service updates or deletes a row; on PostgreSQL a trigger
refuses UPDATE, DELETE and TRUNCATE (except sealing a row into the hash chain once:
``app/services/audit_chain.py``), and the chain shows an edit or deletion made with owner rights."""
from __future__ import annotations

from sqlalchemy import DDL, BigInteger, Column, Index, Integer, String, Text, event, text

from .base import LabeledEnum, Model, UTCDateTime, utcnow


class AuditEvent(LabeledEnum):
    LOGIN_OK = "login_ok", "登录成功"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKOUT = "lockout", "账户锁定"
    LOGOUT = "logout", "退出登录"
    SESSION_TIMEOUT = "session_timeout", "会话超时"
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    ACTION = "action", "操作"
    EXPORT = "export", "导出"
    REVEAL = "reveal", "查看明文"
    PERMISSION_DENIED = "denied", "越权拒绝"
    PASSWORD_CHANGE = "password", "修改密码"
    ID_LOOKUP = "id_lookup", "按证件号码查询"


class AuditLog(Model):
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, default=utcnow, nullable=False, index=True)
    user_id = Column(Integer)
    username = Column(String(64), index=True)
    event = Column(String(20), nullable=False, index=True)
    target_type = Column(String(40))
    target_id = Column(String(40))
    summary = Column(String(255))
    detail = Column(Text)
    ip = Column(String(45))
    # hash chain, set once by the sealer: position, the previous row's hash, this row's hash
    chain_no = Column(BigInteger, unique=True)
    prev_hash = Column(String(64))
    hash = Column(String(64))

    __table_args__ = (
        Index("ix_audit_target", "target_type", "target_id"),
        Index("ix_audit_unsealed", "id", postgresql_where=text("chain_no IS NULL"),
              sqlite_where=text("chain_no IS NULL")),
    )

    @property
    def event_label(self) -> str:
        return AuditEvent.label_of(self.event)


class AuditLogImmutableError(RuntimeError):
    pass


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_audit_change(mapper, connection, target):
    raise AuditLogImmutableError("审计日志只能追加，不能修改或删除")


# PostgreSQL: the database itself refuses changes, whoever connects (the application's role should
# not own the table either: README, production). Sealing (chain_no, prev_hash, hash of a row that
# has none) is the one update allowed. Created by the migration and by create_all (tests).
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_no IS NULL AND NEW.chain_no IS NOT NULL
       AND (to_jsonb(NEW) - 'chain_no' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'chain_no' - 'prev_hash' - 'hash')
    THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
    MESSAGE = '审计日志只能追加，不能修改或删除 (audit_log is append-only: ' || TG_OP || ' refused)';
END
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGERS = (
    ("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
     "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"),
    ("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
     "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"),
)
for _statement in (APPEND_ONLY_FUNCTION, *APPEND_ONLY_TRIGGERS):
    event.listen(AuditLog.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
