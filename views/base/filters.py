"""Which request filters apply, on every path (lists, exports, settlement, add/edit pages, REST ``q``).

FAB applies ``_flt_`` filters on any column when a caller passes
``disallow_if_not_in_search=False`` (exports did), and any operator on a personal-data column:
walking ``_flt_0_id_number=<prefix>`` recovered a full ID number from masked exports. Here,
whatever the caller asks:

- only the view's declared ``search_columns`` filter (others are ignored);
- a masked column (the model's ``__audit_masked__``: ID numbers, phones…) compares by exact
  equality with one value only, never by prefix, substring, range, list or "not equal";
- for a role without ``unmask`` on the view, a masked column filters only if it identifies one
  person (a unique column: the full ID number), and every such lookup is audited; other masked
  columns (phones) do not filter at all;
- a value that no row id or integer column can hold is ignored instead of failing in SQL.
"""
from __future__ import annotations

from flask import current_app, flash, has_request_context, request
from flask_appbuilder.exceptions import InvalidOperationFilterFABException
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterRelation

from app.routing import MAX_ID, parse_id


class MaskedFilterRefused(InvalidOperationFilterFABException):
    """A REST filter on a masked column the caller may not use (the message is Chinese)."""


def masked_columns(model) -> dict:
    """The model's masked columns: name -> masking function (declared once, on the model)."""
    return getattr(model, "__audit_masked__", {}) or {}


def masked_filters(datamodel, column: str) -> list | None:
    """The only filter a masked column offers (exact equality), or None for other columns."""
    if column in masked_columns(datamodel.obj):
        return [FilterEqual(column, datamodel)]
    return None


class GuardedFilters(Filters):
    """FAB's Filters with the rules above; a view names itself with :meth:`guard`."""

    permission_view: str | None = None  # whose ``can_unmask`` lifts the per-role restriction
    labels: dict = {}

    def guard(self, permission_view: str, labels: dict | None = None) -> GuardedFilters:
        self.permission_view = permission_view
        self.labels = dict(labels or {})
        return self

    # --- _flt_<index>_<column>=value (pages, exports) -------------------------------------------
    def add_filter_index(self, column_name: str, filter_instance_index: int, value) -> None:
        filters = self._search_filters.get(column_name) or []
        if not 0 <= filter_instance_index < len(filters):
            return  # not a search column, or an operator the column does not offer
        flt = filters[filter_instance_index]
        values = value if isinstance(value, list) else [value]
        if not all(self._value_fits(column_name, flt, v) for v in values):
            return
        refusal = self._masked_refusal(column_name, flt, values)
        if refusal:
            if has_request_context():
                flash(refusal, "warning")
            return
        self._add_filter(flt, value)

    # --- REST rison filters (col, opr, value) --------------------------------------------------------
    def rest_add_filters(self, data) -> None:
        for item in data or []:
            column = item.get("col") if isinstance(item, dict) else None
            if column in masked_columns(self.datamodel.obj) and column in self.search_columns \
                    and item.get("opr") != FilterEqual.arg_name:
                raise MaskedFilterRefused(f"「{self._label(column)}」属于个人敏感信息，只能按完整号码精确查询")
        super().rest_add_filters(data)

    def add_filter(self, column_name: str, filter_class, value):
        values = value if isinstance(value, list) else [value]
        flt = filter_class(column_name, self.datamodel)
        refusal = self._masked_refusal(column_name, flt, values)
        if refusal:
            raise MaskedFilterRefused(refusal)
        if not all(self._value_fits(column_name, flt, v) for v in values):
            raise InvalidOperationFilterFABException("筛选值无效")
        return super().add_filter(column_name, filter_class, value)

    # --- rules ---------------------------------------------------------------------------------------
    def _label(self, column: str) -> str:
        return str(self.labels.get(column) or column)

    def _masked_refusal(self, column: str, flt, values: list) -> str | None:
        if column not in masked_columns(self.datamodel.obj):
            return None
        label = self._label(column)
        if type(flt) is not FilterEqual or len(values) != 1:
            return f"「{label}」属于个人敏感信息，只能按完整号码精确查询"
        if not self._may_unmask() and not self._identifies_one(column):
            return f"「{label}」属于个人敏感信息，无查看明文权限时不能作为筛选条件"
        self._audit_lookup(column, values[0])
        return None

    def _may_unmask(self) -> bool:
        return bool(self.permission_view) and current_app.appbuilder.sm.has_access("can_unmask",
                                                                                   self.permission_view)

    def _identifies_one(self, column: str) -> bool:
        attr = self.datamodel.list_columns.get(column)
        return bool(getattr(attr, "unique", False))

    def _audit_lookup(self, column: str, value) -> None:
        from app.extensions import db
        from app.services import audit
        from models.audit import AuditEvent

        mask = masked_columns(self.datamodel.obj)[column]
        audit.record_now(db.session, AuditEvent.ID_LOOKUP, target_type=self.datamodel.obj.__tablename__,
                         summary=f"按完整「{self._label(column)}」精确查询",
                         detail={"column": column, "value": mask(str(value)),
                                 "path": request.path if has_request_context() else None})

    def _value_fits(self, column: str, flt, value) -> bool:
        """Ids and integers the database can hold (a bigger one fails in SQL on PostgreSQL)."""
        if value in (None, ""):
            return True
        if isinstance(flt, FilterRelation):
            return parse_id(value) is not None
        if self.datamodel.is_integer(column):
            try:
                return -MAX_ID - 1 <= int(str(value).strip()) <= MAX_ID
            except ValueError:
                return False
        return True
