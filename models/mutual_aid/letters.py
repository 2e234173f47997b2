"""确认书 (S004:L78–118): versions of an effective enrollment's confirmation letter."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import relationship

from ..base import Model, UTCDateTime, utcnow


class ConfirmationLetter(Model):
    """One version; 刷新 makes the next one from the current data and keeps this one."""

    __tablename__ = "confirmation_letter"
    id = Column(Integer, primary_key=True)
    enrollment_id = Column(Integer, ForeignKey("enrollment.id", ondelete="CASCADE"), nullable=False)
    enrollment = relationship("Enrollment")
    version = Column(Integer, nullable=False)
    attachment_id = Column(Integer, ForeignKey("attachment.id"))   # the PDF
    generated_at = Column(UTCDateTime, default=utcnow, nullable=False)
    generated_by_id = Column(Integer, ForeignKey("ab_user.id"))    # NULL: made by 到账确认 (v1)
    printed = Column(Boolean, nullable=False, default=False)        # tabs 未打印 / 已打印
    first_printed_at = Column(UTCDateTime)
    first_printed_by_id = Column(Integer, ForeignKey("ab_user.id"))
    list_confirmed_at = Column(UTCDateTime)                         # 我已确认人员名单无误
    list_confirmed_by_id = Column(Integer, ForeignKey("ab_user.id"))

    __table_args__ = (UniqueConstraint("enrollment_id", "version", name="uq_confirmation_letter_version"),)

    def __repr__(self) -> str:
        return f"第{self.version}版"
