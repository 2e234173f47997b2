"""Search-as-you-type relation filters: the list page renders no option lists.

FAB renders every related row of a relation filter into the list page (thousands
of units for a city admin, on every page view). ``LookupField`` renders an empty
select that ``lookup.js`` turns into a select2 asking the view's scoped
``/lookup/<column>`` endpoint as the user types.
"""
from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import Field


class LookupWidget:
    def __call__(self, field, **kwargs):
        endpoint = escape(field.endpoint)
        name = escape(kwargs.get("name", field.name))
        return Markup(f'<select class="union-lookup form-control" name="{name}" data-endpoint="{endpoint}" '
                      f'style="width:100%"></select>')


class LookupField(Field):
    widget = LookupWidget()

    def __init__(self, label=None, endpoint: str = "", **kwargs):
        super().__init__(label, **kwargs)
        self.endpoint = endpoint

    def _value(self):
        return self.data or ""
