"""审计日志 view: list and show only; the model refuses updates and deletes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.exports import ExportField
from models.audit import AuditEvent, AuditLog

from .base import ScopedInterface, ScopedModelView


class AuditLogView(ScopedModelView):
    datamodel = ScopedInterface(AuditLog)
    scope_column = None  # the audit admin sees every row; nobody else holds this view
    base_permissions = ["can_list", "can_show", "can_export"]
    list_title = show_title = _l("Audit log")
    list_columns = ["at", "username", "event_label", "target_type", "target_id", "summary", "ip"]
    show_columns = ["at", "username", "user_id", "event_label", "target_type", "target_id", "summary", "detail", "ip"]
    search_columns = ["at", "username", "event", "target_type", "target_id", "summary"]
    label_columns = {
        "at": _l("Time"), "username": _l("User"), "user_id": _l("User id"), "event": _l("Event"),
        "event_label": _l("Event"), "target_type": _l("Target"), "target_id": _l("Target id"),
        "summary": _l("Summary"), "detail": _l("Detail"), "ip": _l("IP"),
    }
    base_order = ("id", "desc")
    export_fields = (
        ExportField("时间", AuditLog.at), ExportField("用户", AuditLog.username),
        ExportField("事件", AuditLog.event, AuditEvent.label_of), ExportField("对象", AuditLog.target_type),
        ExportField("对象ID", AuditLog.target_id), ExportField("摘要", AuditLog.summary),
        ExportField("详情", AuditLog.detail), ExportField("IP地址", AuditLog.ip),
    )
