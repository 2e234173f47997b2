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
from markupsafe import Markup, escape

from app.extensions import db
from app.security import current_user
from app.services import imports, jobs
from app.services.errors import DomainError
from app.storage import store
from app.xlsx.writer import write_template
from models.base import DISPLAY_TZ
from models.imports import DataJob, JobDirection

from .base import XLSX, ScopedInterface, ScopedModelView, as_list, flash_enqueued


def may_import(kind_key: str) -> bool:
    """Whether the current user may open the upload page of ``kind_key`` (for the lists' 导入 buttons):
    the job pages' ``can_import`` and the kind's own grant."""
    sm = current_app.appbuilder.sm
    return sm.has_access("can_import", "DataJobView") and imports.may_import(imports.get_kind(kind_key), sm.has_access)


class DataJobView(ScopedModelView):
    """采集任务: imports (and large exports) of the user's scope."""

    datamodel = ScopedInterface(DataJob)
    base_permissions = ["can_list", "can_show", "can_import", "can_retry"]
    method_permission_name = {"upload": "import", "template": "import", "download_file": "show",
                              "progress": "show", "retry": "retry"}
    list_title = show_title = _l("Data jobs")
    # "id" is shown as the row's 导出结果 button (see _result_button)
    list_columns = ["file_name", "direction_label", "kind_label", "status_label", "processed_rows", "ok_rows",
                    "error_rows", "submitted_by", "created_at", "updated_at", "id"]
    order_columns = ["file_name", "processed_rows", "ok_rows", "error_rows", "created_at", "updated_at"]
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
        "id": _l("Result file"),
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

    def __init__(self, **kwargs):
        self.formatters_columns = {**(self.formatters_columns or {}), "id": self._result_button}
        super().__init__(**kwargs)

    def _may_download(self, job) -> bool:
        """The file exists and this user gets it (raw, or masked for an import's result)."""
        if not job.result_name or not self.appbuilder.sm.has_access("can_show", self.class_permission_name):
            return False
        return job.direction == JobDirection.IMPORT or imports.sees_raw_file(job, current_user(),
                                                                              self.appbuilder.sm.has_access)

    def _result_button(self, job_id):
        """导出结果 per row of the job list (the rows are in the session already: no query)."""
        job = db.session.get(DataJob, job_id)
        if job is None or not self._may_download(job):
            return ""
        label = "导出结果" if job.direction == JobDirection.IMPORT else "下载文件"
        href = url_for(".download_file", pk=job.id, which="result")
        return Markup(f'<a class="btn btn-xs btn-warning job-result" href="{escape(href)}">'
                      f'<i class="fa fa-download"></i> {label}</a>')

    def show_context(self, item):
        return {"job": item, "kinds": imports.REGISTRY, "may_download": self._may_download(item)}

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

    def _kind_for_import(self, key: str) -> imports.ImportKind:
        """The import kind ``key`` if this user holds its own grant: unknown → 404, not granted → 403
        (before anything of the upload is read or kept)."""
        kind = imports.REGISTRY.get(key) or abort(404)
        if not imports.may_import(kind, self.appbuilder.sm.has_access):
            abort(403)
        return kind

    @expose("/upload", methods=["GET", "POST"])
    @has_access
    def upload(self):
        kind = self._kind_for_import(request.values.get("kind", "members"))
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
        spec = self._kind_for_import(kind)
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
        if imports.sees_raw_file(job, current_user(), self.appbuilder.sm.has_access):
            return store().response(kind, stored, mimetype=XLSX, download_name=name)
        if job.direction != JobDirection.IMPORT:
            abort(403)  # an export holds what its submitter may see: never handed to another
        # whoever sees the job but not the raw data (the auditor): ID numbers and phones masked
        data = imports.masked_result(db.session, job)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)

    @expose("/progress/<pk>")
    @has_access
    def progress(self, pk):
        job = self.scoped_item(pk)
        return jsonify(status=job.status, status_label=job.status_label, percent=job.percent,
                       total=job.total_rows, processed=job.processed_rows, ok=job.ok_rows,
                       errors=job.error_rows, created=job.created_rows, updated=job.updated_rows,
                       message=job.message, done=job.finished_at is not None,
                       result=bool(job.result_name))
