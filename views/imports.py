"""采集任务 views: upload, template download, job list (today by default), progress, result files."""
from __future__ import annotations

import io
from datetime import datetime

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.security import current_user
from app.services import imports, jobs
from app.services.errors import DomainError
from app.storage import store
from app.xlsx.writer import write_template
from models.base import DISPLAY_TZ
from models.imports import DataJob

from .base import XLSX, ScopedInterface, ScopedModelView, as_list, flash_enqueued


class DataJobView(ScopedModelView):
    """采集任务: imports (and large exports) of the user's scope."""

    datamodel = ScopedInterface(DataJob)
    base_permissions = ["can_list", "can_show", "can_import", "can_retry"]
    method_permission_name = {"upload": "import", "template": "import", "download_file": "show",
                              "progress": "show", "retry": "retry"}
    list_title = show_title = _l("Data jobs")
    list_columns = ["file_name", "direction_label", "kind_label", "status_label", "processed_rows", "ok_rows",
                    "error_rows", "submitted_by", "created_at", "updated_at"]
    show_columns = ["file_name", "direction_label", "kind_label", "status_label", "total_rows", "processed_rows",
                    "ok_rows", "created_rows", "updated_rows", "error_rows", "message", "submitted_by", "org",
                    "created_at", "started_at", "finished_at"]
    search_columns = ["status", "created_at", "kind", "file_name"]
    label_columns = {
        "file_name": _l("File"), "direction_label": _l("Direction"), "kind_label": _l("Kind"), "kind": _l("Kind"),
        "status_label": _l("Status"), "status": _l("Status"), "total_rows": _l("Rows (estimated)"),
        "processed_rows": _l("Processed"), "ok_rows": _l("Accepted"), "created_rows": _l("Created"),
        "updated_rows": _l("Updated"), "error_rows": _l("Rejected"), "message": _l("Message"),
        "submitted_by": _l("Submitted by"), "org": _l("Organization"), "created_at": _l("Submitted at"),
        "updated_at": _l("Updated at"), "started_at": _l("Started at"), "finished_at": _l("Finished at"),
    }
    base_order = ("id", "desc")
    show_template = "union/job_show.html"

    @expose("/list/")
    @has_access
    def list(self):
        # the seed's task list opens on today's jobs
        if not any(key.startswith("_flt_") for key in request.args):
            today = datetime.now(DISPLAY_TZ).strftime("%Y-%m-%d 00:00:00")
            return redirect(url_for(".list", _flt_1_created_at=today, **request.args))
        return super().list()

    def show_context(self, item):
        return {"job": item, "kinds": imports.REGISTRY}

    @action("retry", "重新执行", "重新执行所选任务？已保存的数据不会重复导入。", "fa-repeat")
    def retry(self, items):
        """重新执行: failed, interrupted or stuck jobs run again from where they stopped."""
        for job in as_list(items):
            try:
                jobs.retry_job(db.session, job.id, actor=current_user())
            except DomainError as err:
                db.session.rollback()
                flash(f"「{job.file_name}」：{err.message}", "warning")
            else:
                flash_enqueued(job, f"已重新提交「{job.file_name}」，正在后台处理")
        return redirect(url_for(".show", pk=as_list(items)[0].id) if len(as_list(items)) == 1 else url_for(".list"))

    @expose("/upload", methods=["GET", "POST"])
    @has_access
    def upload(self):
        kind_key = request.values.get("kind", "members")
        kind = imports.REGISTRY.get(kind_key) or abort(404)
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash("请选择要上传的 .xlsx 文件", "danger")
            else:
                try:
                    job = imports.submit_import(db.session, actor=current_user(), kind_key=kind.key,
                                                file_name=upload.filename, stream=upload.stream)
                except DomainError as err:
                    flash(err.message, "danger")
                else:
                    flash_enqueued(job, f"已提交采集任务「{job.file_name}」，正在后台处理")
                    return redirect(url_for(".show", pk=job.id))
        return self.render_template("union/upload.html", title=f"{kind.label} - 批量导入", kind=kind,
                                    max_mb=current_app.config["IMPORT_MAX_BYTES"] // 1048576)

    @expose("/template/<kind>")
    @has_access
    def template(self, kind):
        spec = imports.REGISTRY.get(kind) or abort(404)
        return send_file(io.BytesIO(write_template(spec.sheet)), mimetype=XLSX, as_attachment=True,
                         download_name=f"{spec.sheet.title}.xlsx")

    @expose("/file/<pk>/<which>")
    @has_access
    def download_file(self, pk, which):
        job = self.scoped_item(pk)
        try:
            kind, stored, name = imports.job_file(job, which)
        except DomainError:
            abort(404)
        return store().response(kind, stored, mimetype=XLSX, download_name=name)

    @expose("/progress/<pk>")
    @has_access
    def progress(self, pk):
        job = self.scoped_item(pk)
        return jsonify(status=job.status, status_label=job.status_label, percent=job.percent,
                       total=job.total_rows, processed=job.processed_rows, ok=job.ok_rows,
                       errors=job.error_rows, created=job.created_rows, updated=job.updated_rows,
                       message=job.message, done=job.finished_at is not None,
                       result=bool(job.result_name))
