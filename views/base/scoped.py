"""The scoped model view every domain view derives from.

It closes FAB's gaps once: actions check each row against ``base_filters``
(404 outside scope), mutations are POST-only (CSRFProtect is installed), list
counts are capped, relation filters are search-as-you-type lookups, and domain
errors raised while saving a form become form-level messages.
"""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_babel import lazy_gettext as _l
from flask_appbuilder.baseviews import expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from app.routing import parse_id
from app.security import FilterInScope, ScopeArgs, current_user
from app.services.errors import DomainError
from models.base import as_local_naive

from ..lookup import LookupField, scoped_lookup
from .datetime import use_datetime_pickers
from .display import default_formatters, enum_search_fields
from .export import ExportMixin


def scope_rel(column: str = "org_id", *extra, merchant_column: str | None = None,
              member_unit_column: str | None = None, base_column: str | None = None):
    """A ``*_query_rel_fields`` entry: related rows inside the current user's scope."""
    return [[column, FilterInScope, ScopeArgs(merchant_column, member_unit_column, base_column)], *extra]


class ScopedModelView(ExportMixin, ModelView):
    """ModelView whose every read and write path is limited to the user's scope."""

    scope_column: str | None = "org_id"
    merchant_column: str | None = None  # rows a 商家管理员 may see: this column = his merchant
    member_unit_column: str | None = None  # rows a 会员单位经办人 may see: this column = his member unit
    base_column: str | None = None  # rows a 基地管理员 may see: this column = his recuperation base
    list_template = "union/list.html"
    show_template = "union/show.html"
    page_size = 20
    # relation filters searched as one types: column -> (model, its org column, extra conditions)
    lookup_columns: dict = {}
    # plain string columns holding a LabeledEnum that the model does not declare (see column_enum)
    enum_columns: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("lookup_columns"):
            extra = dict(cls.__dict__.get("search_form_extra_fields") or {})
            for column in cls.lookup_columns:
                label = (getattr(cls, "label_columns", None) or {}).get(column, column)
                extra[column] = LookupField(label, endpoint=f"/{cls.__name__.lower()}/lookup/{column}")
            cls.search_form_extra_fields = extra

    def __init__(self, **kwargs):
        if self.scope_column:
            self.base_filters = [[self.scope_column, FilterInScope, ScopeArgs(self.merchant_column,
                                                                               self.member_unit_column,
                                                                               self.base_column)],
                                 *(self.base_filters or [])]
        self.method_permission_name = {"lookup": "list", **(self.method_permission_name or {})}
        if self.order_columns is None and self.list_columns:
            # sortable headers only for stored columns (properties and relations are not)
            self.order_columns = [c for c in self.list_columns if c in self.datamodel.list_columns
                                  and not self.datamodel.is_relation(c)]
        if not self.export_fields:
            self.exclude_route_methods = {*(self.exclude_route_methods or ()), "export"}
        self.datamodel.enum_columns = {**getattr(self.datamodel, "enum_columns", {}), **self.enum_columns}
        shown = [*(self.list_columns or []), *(self.show_columns or [])]
        self.formatters_columns = {
            **default_formatters(self.datamodel.obj, shown, self.enum_columns),
            **(self.formatters_columns or {}),
        }
        self.search_form_extra_fields = {**enum_search_fields(self.datamodel.obj, self.label_columns or {},
                                                              self.enum_columns),
                                         **(self.search_form_extra_fields or {})}
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

    # --- 编辑/删除 only where the row's state allows them -------------------------------
    def check_edit(self, item) -> None:
        """Raise a ``DomainError`` when ``item`` may not be edited in its state (no queries: it runs
        for every listed row). The list then offers no 编辑 for it and its edit page sends the user
        back to the row with the reason."""

    def check_state_delete(self, item) -> None:
        """Like :meth:`check_edit` for 删除 (the full check at deletion stays :meth:`check_delete`)."""

    @staticmethod
    def refusal(check, item) -> str | None:
        try:
            check(item)
        except DomainError as err:
            return err.message
        return None

    def _get_list_widget(self, filters, **kwargs):
        widgets = super()._get_list_widget(filters, **kwargs)
        args = widgets["list"].template_args
        locked_edit, locked_delete = set(), set()
        hooks = [(hook, out) for hook, out in ((self.check_edit, locked_edit), (self.check_state_delete, locked_delete))
                 if getattr(type(self), hook.__name__) is not getattr(ScopedModelView, hook.__name__)]
        if hooks:
            for pk in args.get("pks") or []:
                item = db.session.get(self.datamodel.obj, pk)  # loaded by the page's query: no SQL
                for hook, out in hooks:
                    if item is not None and self.refusal(hook, item):
                        out.add(pk)
        args.update(locked_edit=locked_edit, locked_delete=locked_delete, list_buttons=self.list_buttons())
        return widgets

    def list_buttons(self) -> list[dict]:
        """Buttons of the list's header bar, beside 记录数目 (so none covers it): 导出 Excel where
        granted; a view adds its own (``id``, ``href``, ``label``, ``icon``, ``style``)."""
        if not self.export_fields or not self.appbuilder.sm.has_access("can_export", self.class_permission_name):
            return []
        return [{"id": "export-link", "href": url_for(f"{self.endpoint}.export", **request.args),
                 "label": _l("Export to Excel"), "icon": "fa-file-excel-o", "style": "default"}]

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        item = self.scoped_item(pk)
        refused = self.refusal(self.check_edit, item)
        if refused:
            flash(refused, "warning")
            return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        widgets = self._edit(item.id)
        if not widgets and g.get("_form_refused"):
            # the service refused what was typed: the same form again, as typed, with the reason
            widgets = self._get_edit_widget(form=self.edit_form.refresh(request.form))
        if not widgets:
            return self.post_edit_redirect()
        return self.render_template(self.edit_template, title=self.edit_title, widgets=widgets,
                                    related_views=self._related_views)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        widgets = self._add()
        if not widgets and g.get("_form_refused"):
            widgets = self._get_add_widget(form=self.add_form.refresh(request.form))
        if not widgets:
            return self.post_add_redirect()
        return self.render_template(self.add_template, title=self.add_title, widgets=widgets)

    # --- service errors as form-level messages ------------------------------------
    def prepare(self, item, is_created: bool) -> None:
        """Call the domain service that validates/derives ``item`` before saving."""

    def store_uploads(self, item) -> None:
        """Store files that came with the form (``ImageColumnsMixin``)."""

    def check_delete(self, item) -> None:
        """Call the domain service that says whether ``item`` may be deleted."""

    def pre_delete(self, item):
        try:
            self.check_state_delete(item)
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
            g._form_refused = True
            raise ValueError(err.message) from None
