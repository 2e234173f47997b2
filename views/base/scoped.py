"""The scoped model view every domain view derives from.

It closes FAB's gaps once: actions check each row against ``base_filters``
(404 outside scope), mutations are POST-only (CSRFProtect is installed), list
counts are capped, relation filters are search-as-you-type lookups, and domain
errors raised while saving a form become form-level messages.
"""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.baseviews import expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import inspect as sa_inspect

from app.extensions import db
from app.routing import parse_id
from app.security import FilterInScope, ScopeArgs, current_user
from app.services.errors import DomainError
from models.base import as_local_naive

from ..lookup import LookupField, scoped_lookup
from .datetime import use_datetime_pickers
from .display import display_value
from .export import ExportMixin


def scope_rel(column: str = "org_id", *extra, merchant_column: str | None = None,
              member_unit_column: str | None = None):
    """A ``*_query_rel_fields`` entry: related rows inside the current user's scope."""
    return [[column, FilterInScope, ScopeArgs(merchant_column, member_unit_column)], *extra]


class ScopedModelView(ExportMixin, ModelView):
    """ModelView whose every read and write path is limited to the user's scope."""

    scope_column: str | None = "org_id"
    merchant_column: str | None = None  # rows a 商家管理员 may see: this column = his merchant
    member_unit_column: str | None = None  # rows a 会员单位经办人 may see: this column = his member unit
    list_template = "union/list.html"
    show_template = "union/show.html"
    page_size = 20
    # relation filters searched as one types: column -> (model, its org column, extra conditions)
    lookup_columns: dict = {}

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
            self.base_filters = [[self.scope_column, FilterInScope, ScopeArgs(self.merchant_column,
                                                                               self.member_unit_column)],
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
        for form in (self.add_form, self.edit_form):
            use_datetime_pickers(form)
        use_datetime_pickers(self.search_form, with_assets=False)
        self._filters.guard(self.class_permission_name, self.label_columns)

    @expose("/lookup/<column>")
    @has_access
    def lookup(self, column):
        """JSON ``[{id, text}]`` of related rows in scope matching ``q`` (or the one ``id``)."""
        if column not in self.lookup_columns:
            abort(404)
        return jsonify(scoped_lookup(*self.lookup_columns[column]).search(request.args))

    # --- rows ------------------------------------------------------------------
    def scoped_item(self, pk):
        """The row ``pk`` if it lies in scope, else 404."""
        pk = parse_id(pk)
        item = self.datamodel.get(pk, self._base_filters) if pk is not None else None
        if item is None:
            abort(404)
        return item

    def _require_permission(self, permission_name: str):
        if not current_user():
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login", next=request.url))
        if not self.appbuilder.sm.has_access(permission_name, self.class_permission_name):
            abort(403)
        return None

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
