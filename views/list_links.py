"""A count that links to the list showing exactly those rows (home-page cards, statistics drill-down).

``ListLink("MemberView", [("cert_status", FilterEqual, "pending")])`` names a registered list view
and FAB filters on its search columns. The URL carries them as the list's own ``_flt_<i>_<col>``
arguments, and the count runs the view's own query — its scope (``base_filters``) joined with
the same filters, through its interface (capped like the list) — so the number shown is the
number of rows the list shows, by construction.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app, url_for


def registered_view(name: str):
    """The registered view instance whose class is ``name`` (None when it is not registered)."""
    return next((v for v in current_app.appbuilder.baseviews if type(v).__name__ == name), None)


def can(view, permission: str) -> bool:
    return view is not None and current_app.appbuilder.sm.has_access(permission, view.class_permission_name)


@dataclass(frozen=True)
class ListLink:
    view_name: str
    filters: Sequence[tuple] = field(default_factory=tuple)  # (search column, FAB filter class, value)

    @property
    def view(self):
        return registered_view(self.view_name)

    def readable(self) -> bool:
        """The current user may open the list."""
        return can(self.view, "can_list")

    def _indexed(self, view) -> list[tuple[str, int, str]]:
        out = []
        for column, filter_class, value in self.filters:
            if column not in view.search_columns:
                raise ValueError(f"{self.view_name}.{column} is not a search column: the list would ignore it")
            candidates = view._filters._all_filters[column]
            index = next(i for i, f in enumerate(candidates) if isinstance(f, filter_class))
            out.append((column, index, str(value)))
        return out

    def url(self) -> str:
        view = self.view
        args = {f"_flt_{index}_{column}": value for column, index, value in self._indexed(view)}
        return url_for(f"{view.endpoint}.list", **args)

    def count(self) -> int:
        """Rows the list shows (capped at ``LIST_COUNT_CAP`` where the view's interface caps)."""
        view = self.view
        filters = view._filters.copy()
        filters.clear_filters()
        for column, index, value in self._indexed(view):
            filters.add_filter_index(column, index, [value])  # as the list parses its arguments
        joined = filters.get_joined_filters(view._base_filters)
        datamodel = view.datamodel
        return datamodel.query_count(datamodel.session.query(datamodel.obj), joined)


def capped(count: int) -> str:
    """How a count reads: ``10000+`` when it reached the list's cap."""
    cap = current_app.config["LIST_COUNT_CAP"]
    return f"{cap}+" if count >= cap else str(count)
