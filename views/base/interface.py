"""The scoped paging interface: lists stay flat from 100k to millions of rows."""
from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterNotEqual,
    FilterStartsWith,
    SQLAFilterConverter,
    get_field_setup_query,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload

from app.extensions import db

from .display import column_enum
from .filters import GuardedFilters, masked_filters


class FilterStartsWithLike(FilterStartsWith):
    """Case-sensitive ``LIKE 'x%'``: a range scan on a plain index (ILIKE never is)."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        # one bound pattern (not ``? || '%'``): SQLite only range-scans a constant pattern
        pattern = value.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        return query.filter(field.like(pattern, escape="/"))


def _as_bool(value) -> bool:
    return str(value).strip().lower() in ("y", "yes", "true", "1", "on")


class FilterBoolEqual(FilterEqual):
    """是/否: FAB compares a boolean column with the raw text unless it is "y" (a 500 on PostgreSQL)."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_(_as_bool(value)))


class FilterBoolNotEqual(FilterNotEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_not(_as_bool(value)))


_REPLACED = {FilterStartsWith: FilterStartsWithLike}
_BOOLEAN = {FilterEqual: FilterBoolEqual, FilterNotEqual: FilterBoolNotEqual}


class _Converter(SQLAFilterConverter):
    conversion_table = tuple(
        (test, [(_BOOLEAN if test == "is_boolean" else _REPLACED).get(f, f) for f in filters])
        for test, filters in SQLAFilterConverter.conversion_table
    )

    def convert(self, col_name):
        if column_enum(self.datamodel.obj, col_name, getattr(self.datamodel, "enum_columns", None)):
            # a stored code: chosen from its labels, compared whole (never "starts with" a raw value)
            return [FilterEqual(col_name, self.datamodel), FilterNotEqual(col_name, self.datamodel)]
        return masked_filters(self.datamodel, col_name) or super().convert(col_name)


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

    def get_filters(self, search_columns=None, search_filters=None) -> GuardedFilters:
        """Request filters obey views/base/filters.py (search columns only, masked columns exact)."""
        return GuardedFilters(self.filter_converter_class, self, search_columns=search_columns or [],
                              search_filters=search_filters)

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
