"""Outboxes: every SMS and e-mail the application sends is first a row here (I-1, I-3).

A Celery task hands pending rows to the configured gateway; the default gateway keeps the
row as the only record (the embedded demo and the tests read the text from the table).
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text

from .base import LabeledEnum, Model, UTCDateTime, utcnow


class OutboxStatus(LabeledEnum):
    PENDING = "pending", "待发送"    # waiting for the sender task (also after a failed try, until next_try_at)
    SENDING = "sending", "发送中"    # claimed by one sender run: no second run sends it
    SENT = "sent", "已发送"          # accepted by the gateway
    FAILED = "failed", "发送失败"    # gave up after the last try (last_error says why)


class _OutboxRow:
    status = Column(String(10), nullable=False, default=OutboxStatus.PENDING)
    template_code = Column(String(40), nullable=False)   # the event (templates in app/services/outbox.py)
    params = Column(JSON)                                # what the template was filled with
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(500))
    next_try_at = Column(UTCDateTime, default=utcnow, nullable=False)
    related_type = Column(String(40))                    # the record the message is about
    related_id = Column(Integer)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = Column(UTCDateTime)

    @property
    def status_label(self) -> str:
        return OutboxStatus.label_of(self.status)


class SmsMessage(_OutboxRow, Model):
    """短信: one row per message (verification codes, approvals, rejections…)."""

    __tablename__ = "sms_message"
    id = Column(Integer, primary_key=True)
    phone = Column(String(11), nullable=False, index=True)
    text = Column(String(500), nullable=False)

    __table_args__ = (Index("ix_sms_message_pending", "status", "next_try_at"),)


class MailMessage(_OutboxRow, Model):
    """邮件: one row per e-mail (invoice PDFs to the unit's mailbox); one optional attachment."""

    __tablename__ = "mail_message"
    id = Column(Integer, primary_key=True)
    to_address = Column(String(254), nullable=False)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    attachment_id = Column(Integer, ForeignKey("attachment.id"))

    __table_args__ = (Index("ix_mail_message_pending", "status", "next_try_at"),)
