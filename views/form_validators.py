"""WTForms adapters around the pure validators in app.validators: field errors in Chinese."""
from __future__ import annotations

from sqlalchemy import select
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError as FormError

from app import validators as v
from app.extensions import db


class Pure:
    """Run a pure validator on a field; its normalized result replaces the data."""

    def __init__(self, func, *, optional: bool = False, when=None):
        self.func, self.optional, self.when = func, optional, when

    def __call__(self, form, field):
        if self.when is not None and not self.when(form):
            return
        if self.optional and not (field.data or "").strip():
            field.data = None
            raise StopValidation()
        try:
            result = self.func(field.data)
        except v.ValidationError as err:
            raise StopValidation(str(err)) from None
        field.data = getattr(result, "number", result)


def is_resident(form) -> bool:
    id_type = getattr(form, "id_type", None)
    return id_type is None or (id_type.data or "resident") == "resident"


class UniqueValue:
    """The value is not already stored in ``column`` (except on the row being edited)."""

    def __init__(self, column, message: str):
        self.column, self.message = column, message

    def __call__(self, form, field):
        if not field.data:
            return
        model = self.column.class_
        stmt = select(model.id).where(self.column == field.data)
        if getattr(form, "_id", None):
            stmt = stmt.where(model.id != int(form._id))
        if db.session.scalar(stmt.limit(1)) is not None:
            raise FormError(self.message)


class SameOrgAs:
    """A related row (unit) belongs to the org chosen in the form's ``org`` field,
    or, on an edit form without it, to the org of the row being edited."""

    def __init__(self, model, message: str = "所选单位不属于所选工会"):
        self.model, self.message = model, message

    def __call__(self, form, field):
        if field.data is None:
            return
        if hasattr(form, "org"):
            org_id = form.org.data.id if form.org.data is not None else None
        else:
            org_id = db.session.scalar(select(self.model.org_id).where(self.model.id == int(form._id)))
        if org_id is not None and field.data.org_id != org_id:
            raise FormError(self.message)


class NotMoreThan:
    """A number is not larger than another field's (migrant workers ≤ employees)."""

    def __init__(self, other: str, message: str):
        self.other, self.message = other, message

    def __call__(self, form, field):
        other = getattr(form, self.other).data
        if field.data is not None and other is not None and field.data > other:
            raise FormError(self.message)


class NotNegative:
    def __call__(self, form, field):
        if field.data is not None and field.data < 0:
            raise FormError("不能为负数")
