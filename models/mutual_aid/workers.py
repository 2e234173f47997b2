"""职工绑定 (S001:L41): a worker's account bound to his insured identity (name + ID + phone on record)."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String

from app.masking import mask_id_number, mask_phone

from ..base import Model, UTCDateTime, utcnow


class WorkerBinding(Model):
    """One account ↔ one insured identity (the ID number); the phone is the one proven by the SMS code."""

    __tablename__ = "worker_binding"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, unique=True)
    name = Column(String(50), nullable=False)
    id_type = Column(String(16), nullable=False)
    id_number = Column(String(32), nullable=False, unique=True)  # one person, one bound account
    phone = Column(String(11), nullable=False)
    bound_at = Column(UTCDateTime, default=utcnow, nullable=False)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)
