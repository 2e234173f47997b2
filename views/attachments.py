"""Attachments served in scope: a scoped view mixes this in and its rows' files are reachable
only by users who may see the row (same scope, ``show`` permission); another scope's → 404."""
from __future__ import annotations

from flask import abort
from flask_appbuilder.baseviews import expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from app.services.attachments import owned_attachment
from app.services.errors import NotFoundError
from app.storage import store


def attachment_response(attachment):
    """Pictures inline, PDFs as downloads; never sniffed, sandboxed if opened."""
    if not store().exists("attachments", attachment.stored_name):
        abort(404)
    download = None if attachment.is_image else attachment.file_name
    response = store().response("attachments", attachment.stored_name, mimetype=attachment.mime,
                                download_name=download, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


class AttachmentsMixin:
    """Mix in before ScopedModelView: ``/attachment/<pk>/<attachment_id>`` serves a file of row ``pk``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.method_permission_name = {**(getattr(cls, "method_permission_name", None) or {}), "attachment": "show"}

    @expose("/attachment/<int:pk>/<int:attachment_id>")
    @has_access
    def attachment(self, pk, attachment_id):
        owner = self.scoped_item(pk)  # 404 outside the user's scope
        try:
            return attachment_response(owned_attachment(db.session, owner, attachment_id))
        except NotFoundError:
            abort(404)
