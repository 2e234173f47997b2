"""站内信 (I-2): in-site messages to a worker's account, per category, read / unread."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text

from .base import LabeledEnum, Model, UTCDateTime, utcnow


class MessageCategory(LabeledEnum):
    ENROLLMENT = "enrollment", "参保记录"      # the worker was enrolled (S001:L59)
    SUBSIDY = "subsidy", "补助申请"            # subsidy rejected / payment failed / done
    INFO_CHANGE = "info_change", "个人信息变更"  # info change rejected / done
    RECUPERATION = "recuperation", "疗休养"    # plan returned / grouped, booking cancelled, complaint answered


class Message(Model):
    """One message; ``link_kind`` + ``link_id`` deep-link to the record (「点此去处理」, S001:L60)."""

    __tablename__ = "message"
    id = Column(Integer, primary_key=True)
    recipient_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    category = Column(String(16), nullable=False)
    title = Column(String(100), nullable=False)
    body = Column(Text, nullable=False)
    link_kind = Column(String(30))     # subsidy_application / info_change_request / insured_person
    link_id = Column(Integer)
    link_ref = Column(String(30))      # the record's number (ZY… / BG…), what the client's link carries
    read_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_message_recipient", "recipient_id", "category", "id"),)

    @property
    def category_label(self) -> str:
        return MessageCategory.label_of(self.category)
