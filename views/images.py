"""Picture columns of a model view: uploaded in the add/edit forms, shown as thumbnails, served
only to users who may see the row (same scope, ``show`` permission)."""
from __future__ import annotations

from flask import abort, current_app, request, url_for
from flask_appbuilder.baseviews import expose
from flask_appbuilder.security.decorators import has_access
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms.validators import ValidationError

from app.extensions import db
from app.images import check_image, image_response, store_image
from app.services.errors import DomainError

ACCEPT = "image/png,image/jpeg,image/webp"


def _valid_picture(_form, field):
    upload = field.data
    if upload and getattr(upload, "filename", None):
        try:
            check_image(upload.read(current_app.config["IMAGE_MAX_BYTES"] + 1))
        except DomainError as err:
            raise ValidationError(err.message) from None
        finally:
            upload.seek(0)


class ImageColumnsMixin:
    """Set ``image_columns`` (column -> label); mix in before ScopedModelView."""

    image_columns: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        columns = cls.__dict__.get("image_columns")
        if not columns:
            return
        for kind in ("add", "edit"):
            extra = dict(getattr(cls, f"{kind}_form_extra_fields", None) or {})
            for column, label in columns.items():
                extra[f"{column}_upload"] = FileField(label, validators=[_valid_picture],
                                                      render_kw={"accept": ACCEPT})
            setattr(cls, f"{kind}_form_extra_fields", extra)
            form_columns = list(getattr(cls, f"{kind}_columns"))
            setattr(cls, f"{kind}_columns", form_columns + [f"{c}_upload" for c in columns])
        cls.label_columns = {**(getattr(cls, "label_columns", None) or {}), **columns}
        cls.method_permission_name = {**(getattr(cls, "method_permission_name", None) or {}), "image": "show"}

    def __init__(self, **kwargs):
        self.formatters_columns = {**(self.formatters_columns or {}),
                                   **{c: self._thumbnail(c) for c in self.image_columns}}
        super().__init__(**kwargs)

    def _thumbnail(self, column):
        def render(name):
            if not name:
                return "—"
            src = escape(url_for(f"{type(self).__name__}.image", column=column, name=name))
            return Markup(f'<a href="{src}" target="_blank"><img src="{src}" class="union-thumb" '
                          f'style="max-height:80px;max-width:160px" alt=""></a>')

        return render

    def store_uploads(self, item) -> None:
        """Store the pictures uploaded with the form (already checked by the field validator)."""
        for column in self.image_columns:
            upload = request.files.get(f"{column}_upload")
            if upload and upload.filename:
                setattr(item, column, store_image(upload.read(current_app.config["IMAGE_MAX_BYTES"] + 1)))

    @expose("/image/<column>/<name>")
    @has_access
    def image(self, column, name):
        if column not in self.image_columns:
            abort(404)
        model = self.datamodel.obj
        pk = db.session.scalar(select(model.id).where(getattr(model, column) == name).limit(1))
        if pk is None:
            abort(404)
        self.scoped_item(pk)  # 404 outside the user's scope
        return image_response(name) or abort(404)
