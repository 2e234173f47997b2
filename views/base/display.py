"""How values read on pages and how one-off files are sent."""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, flash, send_file

from app.extensions import db
from app.services import exports, jobs

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


def as_list(items):
    return items if isinstance(items, list) else [items]
