"""审计日志: append-only; no view or service updates or deletes a row."""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Text, event

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

    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    @property
    def event_label(self) -> str:
        return AuditEvent.label_of(self.event)


class AuditLogImmutableError(RuntimeError):
    pass


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_audit_change(mapper, connection, target):
    raise AuditLogImmutableError("审计日志只能追加，不能修改或删除")
