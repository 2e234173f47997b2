"""The scoped base view every domain view derives from.

It closes FAB's gaps once: actions check each row against ``base_filters``
(404 outside scope), mutations are POST-only (CSRFProtect is installed), list
counts are capped, text "starts with" filters use an indexable LIKE, and review
flows become FAB actions with a confirmation form (reason where required).
"""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, has_request_context, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.baseviews import expose
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.models.sqla.filters import FilterStartsWith, SQLAFilterConverter, get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.security import FilterInScope, ScopeArgs, current_user, org_scope_clause
from app.services import exports, imports
from app.services.errors import DomainError
from app.services.review_flow import flow_actions
from app.tasks import run_export
from models.base import as_local_naive

from .lookup import LookupField


class FilterStartsWithLike(FilterStartsWith):
    """Case-sensitive ``LIKE 'x%'``: a range scan on a plain index (ILIKE never is)."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        # one bound pattern (not ``? || '%'``): SQLite only range-scans a constant pattern
        pattern = value.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        return query.filter(field.like(pattern, escape="/"))


class _Converter(SQLAFilterConverter):
    conversion_table = tuple(
        (test, [FilterStartsWithLike if f is FilterStartsWith else f for f in filters])
        for test, filters in SQLAFilterConverter.conversion_table
    )


class ScopedInterface(SQLAInterface):
    """SQLAInterface for large tables: lists stay flat from 100k to millions of rows.

    - the COUNT stops at ``LIST_COUNT_CAP`` (shown as "more than N");
    - a page is found by primary key first (an index-only scan where an index
      covers the filters), then those rows are loaded with their many-to-one
      relations in one query each, instead of sorting full rows and lazy-loading.
    """

    filter_converter_class = _Converter

    def __init__(self, obj, session=None):
        super().__init__(obj, session or db.session)

    def _pk_query(self, filters, order_column="", order_direction="", page=None, page_size=None):
        query = self.session.query(getattr(self.obj, self.get_pk_name()))
        return self._apply_inner_all(query, filters, order_column, order_direction, page, page_size,
                                     aliases_mapping={})

    def query_count(self, query, filters=None, select_columns=None) -> int:
        cap = current_app.config["LIST_COUNT_CAP"]
        count = self._pk_query(filters).order_by(None).limit(cap).count()
        if has_request_context():
            g.list_count_capped = count >= cap
        return count

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        if order_column and order_column.split(".")[0] not in self.list_columns:
            order_column = ""  # a forged or property sort parameter: default order, never a 500
        page = max(page or 0, 0) if page is not None else None  # forged negative pages
        count = self.query_count(None, filters)
        pks = [row[0] for row in self._pk_query(filters, order_column, order_direction, page, page_size)]
        if not pks:
            return count, []
        pk = getattr(self.obj, self.get_pk_name())
        to_one = [rel for rel in sa_inspect(self.obj).relationships if rel.direction.name == "MANYTOONE"]
        rows = (self.session.query(self.obj).filter(pk.in_(pks))
                .options(*[selectinload(getattr(self.obj, rel.key)) for rel in to_one]).all())
        by_pk = {getattr(row, self.get_pk_name()): row for row in rows}
        return count, [by_pk[p] for p in pks if p in by_pk]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_xlsx_once(path, title: str):
    """Send a freshly written xlsx as a download and remove it from disk."""
    data = path.read_bytes()
    path.unlink(missing_ok=True)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=exports.download_name(title), mimetype=XLSX)


def display_value(value):
    """How a plain value reads in lists and show pages: 是/否, blank for None, local time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime("%Y-%m-%d %H:%M:%S")
    return value


def scope_rel(column: str = "org_id", *extra, merchant_column: str | None = None):
    """A ``*_query_rel_fields`` entry: related rows inside the current user's scope."""
    return [[column, FilterInScope, ScopeArgs(merchant_column)], *extra]


class ScopedModelView(ModelView):
    """ModelView whose every read and write path is limited to the user's scope."""

    scope_column: str | None = "org_id"
    merchant_column: str | None = None  # rows a 商家管理员 may see: this column = his merchant
    list_template = "union/list.html"
    show_template = "union/show.html"
    page_size = 20
    # relation filters searched as one types: column -> (model, its org column, extra conditions)
    lookup_columns: dict = {}
    # the xlsx export of the list (masked): ExportFields, and outer joins they need
    export_fields: tuple = ()
    export_joins: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("lookup_columns"):
            extra = dict(cls.__dict__.get("search_form_extra_fields") or {})
            for column in cls.lookup_columns:
                label = (cls.__dict__.get("label_columns") or {}).get(column, column)
                extra[column] = LookupField(label, endpoint=f"/{cls.__name__.lower()}/lookup/{column}")
            cls.search_form_extra_fields = extra

    def __init__(self, **kwargs):
        if self.scope_column:
            self.base_filters = [[self.scope_column, FilterInScope, ScopeArgs(self.merchant_column)],
                                 *(self.base_filters or [])]
        self.method_permission_name = {"lookup": "list", **(self.method_permission_name or {})}
        if self.order_columns is None and self.list_columns:
            # sortable headers only for stored columns (properties and relations are not)
            self.order_columns = [c for c in self.list_columns if c in self.datamodel.list_columns
                                  and not self.datamodel.is_relation(c)]
        if not self.export_fields:
            self.exclude_route_methods = {*(self.exclude_route_methods or ()), "export"}
        self.formatters_columns = {
            **{c.key: display_value for c in sa_inspect(self.datamodel.obj).columns},
            **(self.formatters_columns or {}),
        }
        super().__init__(**kwargs)

    @expose("/lookup/<column>")
    @has_access
    def lookup(self, column):
        """JSON ``[{id, text}]`` of related rows in scope matching ``q`` (or the one ``id``)."""
        if column not in self.lookup_columns:
            abort(404)
        model, org_column, conditions = self.lookup_columns[column]
        stmt = select(model.id, model.name).where(org_scope_clause(getattr(model, org_column), current_user()),
                                                  *conditions)
        if request.args.get("id", "").isdigit():
            stmt = stmt.where(model.id == int(request.args["id"]))
        elif request.args.get("q"):
            stmt = stmt.where(model.name.contains(request.args["q"].strip(), autoescape=True))
        rows = db.session.execute(stmt.order_by(model.name).limit(30)).all()
        return jsonify([{"id": str(r.id), "text": r.name} for r in rows])

    # --- rows ------------------------------------------------------------------
    def scoped_item(self, pk):
        """The row ``pk`` if it lies in scope, else 404."""
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        return item

    def _require_permission(self, permission_name: str):
        if not current_user():
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login", next=request.url))
        if not self.appbuilder.sm.has_access(permission_name, self.class_permission_name):
            abort(403)
        return None

    # --- export: the filtered list, masked, streamed --------------------------------
    def request_filters(self):
        """The scope's base filters joined with the list filters of this request."""
        get_filter_args(self._filters, disallow_if_not_in_search=False)
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
            run_export.delay(job.id)  # after the commit in create_export_job
            flash(f"数据量较大，已转为后台导出任务「{job.file_name}」，完成后可在此下载", "info")
            return redirect(url_for("DataJobView.show", pk=job.id))
        path = imports.file_dir() / imports.new_file_name()
        count = exports.write_export(path, title, self.export_fields, exports.stream_tuples(query))
        exports.audit_export(db.session, actor=current_user(), title=title, count=count,
                             args=request.args.to_dict(flat=False))
        return send_xlsx_once(path, title)

    # --- actions: scoped, POST only --------------------------------------------
    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        if name not in self.actions:
            abort(404)
        refused = self._require_permission(self.get_action_permission_name(name))
        if refused:
            return refused
        return self.actions[name].func(self.scoped_item(pk))

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        refused = self._require_permission(self.get_action_permission_name(name))
        if refused:
            return refused
        items = [self.scoped_item(pk) for pk in request.form.getlist("rowid")]
        if not items:
            flash("请先勾选要操作的记录", "warning")
            return redirect(self.get_redirect())
        return self.actions[name].func(items)

    # --- show with extra context ------------------------------------------------
    def show_context(self, item) -> dict:
        """Extra template context for the show page (trail, history…)."""
        return {}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.scoped_item(pk)
        widgets = self._show(pk)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._related_views, item=item, **self.show_context(item))

    def prefill_form(self, form, pk):
        # aware UTC datetimes are edited as Beijing wall-clock time (saved back the same way)
        for field in form:
            if isinstance(field.data, datetime):
                field.data = as_local_naive(field.data)

    # --- service errors as form-level messages ------------------------------------
    def prepare(self, item, is_created: bool) -> None:
        """Call the domain service that validates/derives ``item`` before saving."""

    def store_uploads(self, item) -> None:
        """Store files that came with the form (``ImageColumnsMixin``)."""

    def check_delete(self, item) -> None:
        """Call the domain service that says whether ``item`` may be deleted."""

    def pre_delete(self, item):
        try:
            self.check_delete(item)
        except DomainError as err:
            raise ValueError(err.message) from None

    def pre_add(self, item):
        self._prepare(item, True)

    def pre_update(self, item):
        self._prepare(item, False)

    def _prepare(self, item, is_created):
        try:
            self.prepare(item, is_created)
            self.store_uploads(item)
        except DomainError as err:
            db.session.rollback()  # the populated row must not ride along with a later commit
            raise ValueError(err.message) from None


class ReviewFlowMixin:
    """Turns a transition table into FAB actions, each confirmed on one form page.

    Subclasses set ``review_flow`` and ``review_status_attr`` and implement
    ``apply_review(item_id, action, reason)`` by calling one domain service.
    """

    review_flow: dict | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        flow = cls.__dict__.get("review_flow")
        if not flow:
            return
        perms = dict(getattr(cls, "method_permission_name", None) or {})
        for action_name, transition in flow_actions(flow).items():
            method = f"flow_{action_name}"

            def handler(self, items, _action=action_name):
                ids = "&".join(f"pk={i.id}" for i in as_list(items))
                return redirect(url_for(f"{self.endpoint}.flow_form", action=_action) + "?" + ids)

            handler.__name__ = method
            icon = "fa-times" if transition.needs_reason else "fa-check"
            # list (bulk) only: the show page offers just the steps valid from the row's state
            setattr(cls, method, fab_action(action_name, transition.label, icon=icon, single=False)(handler))
            perms[method] = transition.permission
        cls.method_permission_name = perms

    def apply_review(self, item_id: int, action: str, reason: str | None):
        raise NotImplementedError

    @expose("/flow/<action>", methods=["GET", "POST"])
    def flow_form(self, action):
        transition = flow_actions(self.review_flow).get(action)
        if transition is None:
            abort(404)
        refused = self._require_permission(f"can_{transition.permission}")
        if refused:
            return refused
        pks = request.values.getlist("pk")
        items = [self.scoped_item(pk) for pk in pks]
        if not items:
            flash("请先勾选要操作的记录", "warning")
            return redirect(url_for(f"{self.endpoint}.list"))
        if request.method == "POST":
            reason = request.form.get("reason", "").strip()
            if transition.needs_reason and not reason:
                flash(f"「{transition.label}」须填写原因", "danger")
            else:
                done = 0
                for item in items:
                    try:
                        self.apply_review(item.id, action, reason)
                        done += 1
                    except DomainError as err:
                        db.session.rollback()
                        flash(f"{item}: {err.message}", "danger")
                if done:
                    flash(f"「{transition.label}」已完成 {done} 条", "success")
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template("union/flow_form.html", title=transition.label, transition=transition,
                                    items=items, action=action, reason=request.form.get("reason", ""))


def as_list(items):
    return items if isinstance(items, list) else [items]
