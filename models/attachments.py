"""附件: files (pictures, PDFs) attached to any record, kept in the file store (I-4)."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String

from .base import Model, UTCDateTime, utcnow


class Attachment(Model):
    """One checked file of a record (``owner_type`` is the owner's table, ``kind`` what it is for)."""

    __tablename__ = "attachment"
    id = Column(Integer, primary_key=True)
    owner_type = Column(String(40), nullable=False)
    owner_id = Column(Integer, nullable=False)
    kind = Column(String(40), nullable=False)           # e.g. licence, enrollment_file, letter
    file_name = Column(String(255), nullable=False)     # as uploaded (shown, never used as a path)
    stored_name = Column(String(64), nullable=False)    # generated, in the store's "attachments" kind
    mime = Column(String(60), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    at = Column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_attachment_owner", "owner_type", "owner_id", "kind"),)

    def __repr__(self) -> str:
        return self.file_name or ""

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")
