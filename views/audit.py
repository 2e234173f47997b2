"""审计日志 view: list and show only; the model refuses updates and deletes.

Rows are stored with code names (``member``, ``data_job``, ``{"phone": [...]}``); the list, the show
page and the export present them in Chinese: the 对象 as its label, the detail's field names as the
labels the domain's own view gives them, enum values and booleans as their labels.
"""
from __future__ import annotations

import json
import re
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from app.services.exports import ExportField
from models import Model
from models.audit import AuditEvent, AuditLog
from models.base import DISPLAY_TZ, as_local_naive

from .base import ScopedInterface, ScopedModelView

TARGET_LABELS = {
    "member": "会员", "org": "工会组织", "unit": "单位", "data_job": "采集任务", "export": "导出",
    "merchant": "商家", "coupon": "优惠券", "coupon_authorization": "优惠券授权", "activity": "活动",
    "prize": "奖品", "voucher": "券码", "ab_user": "账户", "ab_role": "角色", "insured_person": "参保人",
}
# keys of details that are not columns of the target
DETAIL_LABELS = {
    "reason": "原因", "action": "操作", "field": "字段", "filters": "筛选条件", "rows": "行数",
    "to_org_id": "转入工会ID", "from_org_id": "原工会ID", "id": "ID", "created_at": "创建时间",
    "updated_at": "更新时间", "status_at": "进入当前状态时间", "done_at": "办结时间", "open_owner": "未办结申请人",
    "insured_person": "参保人", "insured_person_id": "参保人", "cards_moved": "随转会员服务卡",
}
SEP = "\x1f"  # joins event, target type, summary and detail into one exported expression
_ISO_AWARE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def _model_of(table: str):
    return next((m.class_ for m in Model.registry.mappers if m.local_table.name == table), None)


def target_label(target_type) -> str:
    """对象 in Chinese: our label, else the title of the view that lists that table."""
    if not target_type:
        return ""
    if target_type in TARGET_LABELS:
        return TARGET_LABELS[target_type]
    model = _model_of(target_type)
    view = next((v for v in current_app.appbuilder.baseviews
                 if getattr(getattr(v, "datamodel", None), "obj", None) is model), None) if model else None
    if view is not None and getattr(view, "list_title", None):
        return str(view.list_title)
    return DETAIL_LABELS.get(target_type, target_type)


def field_label(target_type, key: str) -> str:
    """A detail key in Chinese: the label the target's own view gives the column, where known."""
    if key in DETAIL_LABELS:
        return DETAIL_LABELS[key]
    model = _model_of(target_type) if target_type else None
    for view in current_app.appbuilder.baseviews:
        if model is not None and getattr(getattr(view, "datamodel", None), "obj", None) is model:
            label = _declared_label(view, key)
            if label:
                return label
    return _any_label(key)  # a column the target's own views do not show: another view's label, else the key


def _declared_label(view, column: str) -> str | None:
    """The label a view declares for a column (``unit_id``: its relation ``unit``); never FAB's
    English default made from the column name."""
    labels = getattr(view, "label_columns", None) or {}
    for name in (column, column[:-3] if column.endswith("_id") else None):
        label = labels.get(name) if name else None
        if label and str(label) != view._prettify_column(name):  # FAB fills the others with "Unit Id"
            return str(label)
    return None


def _any_label(column: str, view_name: str | None = None) -> str:
    """A column's label in the exported list's own view, else in the first view that names it."""
    views = current_app.appbuilder.baseviews
    own = [v for v in views if view_name and v.class_permission_name == view_name]
    for view in own + views:
        label = _declared_label(view, column)
        if label:
            return label
    return column


def filters_text(args: dict, view_name: str | None = None) -> str:
    """An export's list filters (``{"_flt_0_name": ["张"]}``) as ``姓名：张``; paging and sorting left out."""
    parts = []
    for key, values in args.items():
        match = re.fullmatch(r"_flt_\d+_(\w+)", key)
        if match:
            shown = "、".join(str(v) for v in values) if isinstance(values, list) else str(values)
            parts.append(f"{_any_label(match.group(1), view_name)}：{shown}")
    return "，".join(parts) or "无"


def _action_label(target_type, action: str) -> str:
    """A review-flow step (``approve``) by the label of the target's flow (``认证通过``)."""
    model = _model_of(target_type) if target_type else None
    for view in current_app.appbuilder.baseviews:
        flow = getattr(view, "review_flow", None)
        if flow and getattr(getattr(view, "datamodel", None), "obj", None) is model:
            return next((t.label for (_status, a), t in flow.items() if a == action), action)
    return action


def value_text(target_type, key: str, value) -> str:
    """A stored value as a person reads it: the model's ``<key>_label`` for enum codes, 是/否, blank."""
    if value is None:
        return ""
    if key == "action" and isinstance(value, str):
        return _action_label(target_type, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and _ISO_AWARE.match(value):  # a stored UTC time: Beijing, to the second
        return datetime.fromisoformat(value).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")
    model = _model_of(target_type) if target_type else None
    if model is not None and isinstance(value, str) and isinstance(getattr(model, f"{key}_label", None), property):
        probe = model()  # transient, never added to a session: only its label property is read
        setattr(probe, key, value)
        try:
            return getattr(probe, f"{key}_label") or value
        except (AttributeError, TypeError, ValueError):  # a label property needing more than that column
            return value
    return str(value)


def detail_text(target_type, detail) -> str:
    """The detail JSON as ``字段：值`` pairs; a change ``[old, new]`` as ``字段：old → new``."""
    if not detail:
        return ""
    try:
        data = json.loads(detail)
    except (TypeError, ValueError):
        return str(detail)
    if not isinstance(data, dict):
        return str(detail)
    parts = []
    for key, value in data.items():
        if key == "field" and isinstance(value, str):
            value = field_label(target_type, value)
        if key == "view":
            continue  # names the list whose labels the filters read with
        if key == "filters" and isinstance(value, dict):
            value = filters_text(value, data.get("view"))
        if isinstance(value, list) and len(value) == 2 and key not in DETAIL_LABELS:
            old, new = (value_text(target_type, key, v) for v in value)
            parts.append(f"{field_label(target_type, key)}：{old or '（空）'} → {new or '（空）'}")
        else:
            parts.append(f"{field_label(target_type, key)}：{value_text(target_type, key, value)}")
    return "；".join(parts)


def summary_text(event, target_type, summary, detail) -> str:
    """A change summary (``修改 张三: phone, name``) names the changed fields in Chinese."""
    summary = summary or ""
    if event != AuditEvent.UPDATE or ": " not in summary or not detail:
        return summary
    try:
        changed = json.loads(detail)
    except (TypeError, ValueError):
        return summary
    if not isinstance(changed, dict):
        return summary
    head = summary.rsplit(": ", 1)[0]
    return f"{head}：{'、'.join(field_label(target_type, key) for key in changed)}"


def _exported(joined: str):
    """Export formatter of the joined ``event SEP target SEP summary SEP detail`` expression."""
    event, target_type, summary, detail = (joined.split(SEP) + ["", "", "", ""])[:4]
    return event, target_type or None, summary, detail or None


def exported_summary(joined: str) -> str:
    return summary_text(*_exported(joined))


def exported_detail(joined: str) -> str:
    _event, target_type, _summary, detail = _exported(joined)
    return detail_text(target_type, detail)


def _joined():
    parts = [func.coalesce(c, "") for c in (AuditLog.event, AuditLog.target_type, AuditLog.summary, AuditLog.detail)]
    expr = parts[0]
    for part in parts[1:]:
        expr = expr + SEP + part
    return expr


class AuditInterface(ScopedInterface):
    """Lists and show pages read 对象, 摘要 and 详情 in Chinese."""

    def _get_attr_value(self, item, col):
        if col == "target_type":
            return target_label(item.target_type)
        if col == "summary":
            return summary_text(item.event, item.target_type, item.summary, item.detail)
        if col == "detail":
            return detail_text(item.target_type, item.detail)
        return super()._get_attr_value(item, col)


class AuditLogView(ScopedModelView):
    datamodel = AuditInterface(AuditLog)
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
        ExportField("时间", AuditLog.at, as_local_naive), ExportField("用户", AuditLog.username),
        ExportField("事件", AuditLog.event, AuditEvent.label_of), ExportField("对象", AuditLog.target_type, target_label),
        ExportField("对象ID", AuditLog.target_id), ExportField("摘要", _joined(), exported_summary),
        ExportField("详情", _joined(), exported_detail), ExportField("IP地址", AuditLog.ip),
    )
