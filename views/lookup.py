"""Search-as-you-type relations: no page renders a list of every related row.

FAB renders every related row of a relation (filter or form field) into the page: thousands
of units for a city admin, every member of the city on the user form. Here:

- a :class:`Lookup` says which rows a relation may offer (model, shown text, conditions such as
  the user's scope, how a typed query matches) and answers ``/lookup/<column>`` as JSON;
- :class:`LookupField` (list filters) and :class:`LookupRelationField` (form fields) render one
  ``<select class="union-lookup">`` holding at most the current choice, which ``lookup.js``
  turns into a select2 asking that endpoint as the user types. A submitted id is accepted only
  if the same lookup offers it (a forged id of another scope is a form error, never saved).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import Field

from app.extensions import db
from app.routing import parse_id

MAX_RESULTS = 30


class Lookup:
    """The rows a relation may offer: ``model`` rows meeting ``where()`` (evaluated per request),
    shown by ``text`` (a column; by default ``name`` or ``title``) or ``describe(row)``, matched
    by ``match(q)`` (by default: the text contains ``q``)."""

    def __init__(self, model, *, text=None, where: Callable[[], Iterable] | Iterable = (),
                 match: Callable[[str], object] | None = None, describe: Callable[[object], str] | None = None,
                 min_query: int = 0):
        self.model = model
        self.text = text if text is not None else _text_column(model)
        self.where = where
        self.match = match or (lambda q: self.text.contains(q, autoescape=True))
        self.describe = describe or (lambda row: str(getattr(row, self.text.key) or ""))
        self.min_query = min_query

    def _conditions(self) -> list:
        return list(self.where() if callable(self.where) else self.where)

    def get(self, pk):
        """The row ``pk`` if this lookup offers it, else None."""
        pk = parse_id(pk)
        if pk is None:
            return None
        return db.session.scalar(select(self.model).where(self.model.id == pk, *self._conditions()))

    def search(self, args) -> list[dict]:
        """``[{id, text}]`` for a request's ``id`` (the current choice) or ``q`` (what was typed)."""
        if args.get("id"):
            row = self.get(args["id"])
            return [self.option(row)] if row is not None else []
        q = (args.get("q") or "").strip()[:50]
        if len(q) < self.min_query:
            return []
        stmt = select(self.model).where(*self._conditions())
        if q:
            stmt = stmt.where(self.match(q))
        rows = db.session.scalars(stmt.order_by(self.text).limit(MAX_RESULTS)).all()
        return [self.option(row) for row in rows]

    def option(self, row) -> dict:
        return {"id": str(row.id), "text": self.describe(row)}


def _text_column(model):
    for name in ("name", "title"):
        column = getattr(model, name, None)
        if column is not None:
            return column
    raise TypeError(f"{model.__name__}: say which column a lookup shows (text=...)")


def scoped_lookup(model, org_column: str, conditions=()) -> Lookup:
    """A lookup of ``model`` rows in the current user's org scope (``ScopedModelView.lookup_columns``)."""
    from app.security import current_user, org_scope_clause

    return Lookup(model, where=lambda: [org_scope_clause(getattr(model, org_column), current_user()),
                                        *conditions])


class LookupWidget:
    def __call__(self, field, **kwargs):
        endpoint = field.endpoint() if callable(field.endpoint) else field.endpoint
        endpoint = escape(endpoint)
        name = escape(kwargs.get("name", field.name))
        field_id = escape(kwargs.get("id", field.id))
        chosen = field.chosen_option()
        option = (f'<option value="{escape(chosen["id"])}" selected>{escape(chosen["text"])}</option>'
                  if chosen else "")
        depends_on = getattr(field, "depends_on", None)
        depends = f'data-depends-on="{escape(depends_on)}" ' if depends_on else ""
        return Markup(f'<select class="union-lookup form-control" id="{field_id}" name="{name}" '
                      f'data-endpoint="{endpoint}" data-placeholder="{escape(field.placeholder)}" '
                      f'data-min-input="{field.min_input()}" {depends}'
                      f'style="width:100%">{option}</select>')


class LookupField(Field):
    """A list filter's value picked by lookup (the filter receives the id as text)."""

    widget = LookupWidget()
    placeholder = "输入名称搜索"

    def __init__(self, label=None, endpoint: str = "", **kwargs):
        super().__init__(label, **kwargs)
        self.endpoint = endpoint

    def _value(self):
        return self.data or ""

    def chosen_option(self):
        return None  # lookup.js asks the endpoint for the text of the filter's current id

    def min_input(self) -> int:
        return 0


class LookupRelationField(Field):
    """A many-to-one form field picked by lookup: ``data`` is the related row (or None).

    ``lookup`` is a :class:`Lookup` or a callable returning one for the current request;
    ``endpoint`` a URL or a callable returning one. ``depends_on`` names another field of the form
    whose value the lookup receives as that argument (``?org=<id>``): choosing there clears this one.
    """

    widget = LookupWidget()

    def __init__(self, label=None, validators=None, *, endpoint, lookup, placeholder: str = "输入名称搜索",
                 depends_on: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.endpoint = endpoint
        self._lookup = lookup
        self.placeholder = placeholder
        self.depends_on = depends_on

    @property
    def lookup(self) -> Lookup:
        return self._lookup() if callable(self._lookup) and not isinstance(self._lookup, Lookup) else self._lookup

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "") or ""
        if not raw.strip() or raw == "__None":
            self.data = None
            return
        row = self.lookup.get(raw.strip())
        if row is None:
            self.data = None
            raise ValueError(f"所选「{self.label.text}」不存在或不在可选范围内，请重新搜索选择")
        self.data = row

    def _value(self):
        return str(self.data.id) if self.data is not None else ""

    def chosen_option(self):
        return self.lookup.option(self.data) if self.data is not None else None

    def min_input(self) -> int:
        return self.lookup.min_query
