"""附件 (I-4): pictures and PDFs attached to any record, checked before they are kept.

Pictures are re-encoded (``app/images.py``: no EXIF, nothing appended, scaled); PDFs are
checked (``app/pdf/safety.py``: magic, size, not encrypted, no scripts, actions or embedded
files). The file's type comes from its content, never from its name. Files live in the store's
``attachments`` kind under generated names; pages serve them only through the owner's scoped
view (``views/attachments.py``).
"""
from __future__ import annotations

import hashlib
from pathlib import PurePath

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.images import reencode_image
from app.pdf.safety import PdfRefusedError, check_pdf
from app.services.errors import DomainError, NotFoundError
from app.storage import store
from models.attachments import Attachment

PDF_MIME = "application/pdf"
IMAGES, PDFS = "image", "pdf"


def _clean(data: bytes, accept: tuple[str, ...]) -> tuple[bytes, str, str]:
    if data.lstrip()[:5] == b"%PDF-":
        if PDFS not in accept:
            raise DomainError("此处只接受图片（JPG、PNG、WebP）", code="file_refused")
        try:
            check_pdf(data, max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])
        except PdfRefusedError as err:
            raise DomainError(str(err), code="file_refused") from None
        return data, "pdf", PDF_MIME
    if IMAGES not in accept:
        raise DomainError("此处只接受 PDF 文件", code="file_refused")
    try:
        return reencode_image(data)
    except DomainError as err:
        message = err.message
        if PDFS in accept and ("有效" in message or "仅支持" in message):
            message = "仅支持 JPG、PNG、WebP 图片或 PDF 文件"
        raise DomainError(message, code="file_refused") from None


def add_attachment(session: Session, *, owner, kind: str, file_name: str, data: bytes, actor=None,
                   accept: tuple[str, ...] = (IMAGES, PDFS)) -> Attachment:
    """Check and store one uploaded file of ``owner`` (no commit: it belongs to the caller's change).

    Raises:
        DomainError: empty, too large, not an accepted type, or refused by the checks.
    """
    if not data:
        raise DomainError("请选择要上传的文件", code="file_refused")
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError(f"文件不能超过 {limit // (1024 * 1024)} MB", code="file_refused")
    clean, ext, mime = _clean(data, accept)
    return _keep(session, owner, kind, _display_name(file_name, ext), clean, mime, actor)


def add_generated(session: Session, *, owner, kind: str, file_name: str, data: bytes, mime: str,
                  actor=None) -> Attachment:
    """Store a file the application made itself (a letter PDF): no upload checks (no commit)."""
    return _keep(session, owner, kind, file_name, data, mime, actor)


def _keep(session, owner, kind, file_name, data, mime, actor) -> Attachment:
    suffix = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
    stored = store().put_bytes("attachments", data, suffix.get(mime, ".bin"))
    attachment = Attachment(owner_type=owner.__tablename__, owner_id=owner.id, kind=kind, file_name=file_name,
                            stored_name=stored, mime=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            uploaded_by_id=getattr(actor, "id", None))
    session.add(attachment)
    session.flush()
    return attachment


def _display_name(file_name: str, ext: str) -> str:
    stem = PurePath((file_name or "").replace("\\", "/")).stem.strip()[:120] or "附件"
    return f"{stem}.{ext}"


def attachments_of(session: Session, owner, kind: str | None = None) -> list[Attachment]:
    stmt = select(Attachment).where(Attachment.owner_type == owner.__tablename__, Attachment.owner_id == owner.id)
    if kind:
        stmt = stmt.where(Attachment.kind == kind)
    return list(session.scalars(stmt.order_by(Attachment.id)))


def owned_attachment(session: Session, owner, attachment_id: int) -> Attachment:
    """The attachment if it belongs to ``owner`` (whose scope the caller checked).

    Raises:
        NotFoundError
    """
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.owner_type != owner.__tablename__ or attachment.owner_id != owner.id:
        raise NotFoundError("附件不存在")
    return attachment


def delete_attachment(session: Session, owner, attachment_id: int) -> None:
    """Remove one attachment of ``owner`` and its file (no commit).

    Raises:
        NotFoundError
    """
    attachment = owned_attachment(session, owner, attachment_id)
    session.delete(attachment)
    store().delete("attachments", attachment.stored_name)
