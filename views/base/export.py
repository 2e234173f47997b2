"""Exports of a list: the list's own query (scope + filters), masked, streamed; large ones as jobs."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder.baseviews import expose
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args
from sqlalchemy.exc import SQLAlchemyError
from xlsxwriter.exceptions import FileCreateError

from app.extensions import db
from app.security import current_user
from app.services import exports, jobs
from app.services.errors import DomainError
from app.storage import store

from .display import flash_enqueued, send_xlsx_once


class ExportMixin:
    """「导出 Excel」 of a ScopedModelView: set ``export_fields`` (and ``export_joins``)."""

    # the xlsx export of the list (masked): ExportFields, and outer joins they need
    export_fields: tuple = ()
    export_joins: tuple = ()

    # --- export: the filtered list, masked, streamed --------------------------------
    def request_filters(self):
        """The scope's base filters joined with the list filters of this request (the list's own
        rules: declared search columns only, masked columns exact — views/base/filters.py)."""
        get_filter_args(self._filters)
        return self._filters.get_joined_filters(self._base_filters)

    def export_query(self):
        """The list's query (scope + the request's filters) selecting the export fields."""
        filters = self.request_filters()
        query = self.datamodel.session.query(*[f.expr for f in self.export_fields]).select_from(self.datamodel.obj)
        for target, onclause in self.export_joins:
            query = query.outerjoin(target, onclause)
        order_column, order_direction = self.base_order or ("", "")
        return self.datamodel._apply_inner_all(query, filters, order_column, order_direction, aliases_mapping={})

    @expose("/export/")
    @has_access
    def export(self):
        """Small lists download at once; large ones become an export job (采集任务)."""
        try:
            query = self.export_query()
            too_many = query.order_by(None).limit(current_app.config["EXPORT_SYNC_MAX_ROWS"] + 1).count()
        except (ApplyFilterException, SQLAlchemyError):
            db.session.rollback()
            flash("筛选条件无效，请重新设置后再导出", "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        title = str(self.list_title)
        if too_many > current_app.config["EXPORT_SYNC_MAX_ROWS"]:
            job = exports.create_export_job(db.session, actor=current_user(), view_name=self.class_permission_name,
                                            title=title, args=request.args.to_dict(flat=False))
            flash_enqueued(job, f"数据量较大，已转为后台导出任务「{job.file_name}」，完成后可在此下载")
            return redirect(url_for("DataJobView.show", pk=job.id))
        try:
            with store().scratch(".xlsx") as path:
                count = exports.write_export(path, title, self.export_fields, exports.stream_tuples(query))
                exports.audit_export(db.session, actor=current_user(), title=title, count=count,
                                     args=request.args.to_dict(flat=False), view=self.class_permission_name)
                return send_xlsx_once(path, title)
        except DomainError as err:  # no room for the file: refused before writing
            flash(err.message, "danger")
        except (OSError, FileCreateError) as err:  # the disk filled up while writing
            what, todo = jobs.describe_fault(err)
            flash(f"导出失败：{what}，{todo}", "danger")
        return redirect(url_for(f"{self.endpoint}.list"))
