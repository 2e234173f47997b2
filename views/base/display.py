"""How values read on pages and how one-off files are sent."""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, flash, send_file
from sqlalchemy import inspect as sa_inspect

from app.extensions import db
from app.services import exports, jobs
from models.base import LabeledEnum

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_xlsx_once(path, title: str):
    """Send a freshly written (scratch) xlsx as a download; the caller's scratch block removes it."""
    data = path.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=exports.download_name(title), mimetype=XLSX)


def flash_enqueued(job, sent: str) -> None:
    """Send a committed job to the workers and say so; with the message queue down the job
    waits in the outbox and starts by itself once the queue is back (no second upload)."""
    if jobs.enqueue(db.session, job):
        flash(sent, "success")
    else:
        flash(f"任务「{job.file_name}」已保存，但后台任务队列暂时不可用：系统恢复后将自动开始处理，"
              "无需重新提交，可在本页查看进度", "warning")


def display_value(value):
    """How a plain value reads in lists and show pages: 是/否, blank for None, local time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime("%Y-%m-%d %H:%M:%S")
    return value


def column_enum(model, column: str, declared: dict | None = None):
    """The ``LabeledEnum`` a plain string column stores: declared by the view (``enum_columns``), in the
    column's ``info["enum"]``, or the type of its enum default (``default=CertStatus.UNVERIFIED``)."""
    if declared and column in declared:
        return declared[column]
    col = sa_inspect(model).columns.get(column) if isinstance(column, str) and "." not in column else None
    if col is None:
        return None
    if isinstance(col.info.get("enum"), type):
        return col.info["enum"]
    default = getattr(col.default, "arg", None)
    return type(default) if isinstance(default, LabeledEnum) else None


def enum_display(enum):
    """A formatter: a stored enum value reads as its Chinese label (blank for None)."""
    def fmt(value):
        return enum.label_of(value) if value is not None else ""
    return fmt


def default_formatters(model, columns, declared: dict | None = None) -> dict:
    """How every shown column reads unless the view says otherwise: enum values as their labels,
    None as blank (relations and properties too), booleans as 是/否, times in Beijing time."""
    out = {}
    for column in dict.fromkeys([c.key for c in sa_inspect(model).columns] + list(columns)):
        enum = column_enum(model, column, declared)
        out[column] = enum_display(enum) if enum else display_value
    return out


def enum_search_fields(model, labels: dict, declared: dict | None = None) -> dict:
    """The search panel offers an enum column as a dropdown of its Chinese labels (FAB would offer a
    text box pre-filled with the raw default, e.g. ``active``)."""
    from wtforms import SelectField

    fields = {}
    for column in sa_inspect(model).columns:
        enum = column_enum(model, column.key, declared)
        if enum:
            fields[column.key] = SelectField(labels.get(column.key, column.key), choices=enum.choices(),
                                            render_kw={"class": "form-control"})
    return fields


def as_list(items):
    return items if isinstance(items, list) else [items]
