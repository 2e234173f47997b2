"""站内信 (I-2): notify a worker (message + SMS through the outbox), list per category, unread
counts, mark one / all read. Only the recipient reads his messages: another's id answers 404."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.services import outbox
from app.services.errors import DomainError, NotFoundError
from models.base import utcnow
from models.messages import Message, MessageCategory

PAGE_SIZE = 20


def notify(session: Session, *, recipient_id: int, category: MessageCategory, title: str, body: str,
           related=None, phone: str | None = None, sms_template: str | None = None,
           sms_params: dict | None = None) -> Message:
    """One 站内信 to ``recipient_id`` and, when ``sms_template`` is given, its SMS through the outbox
    (no commit: both exist exactly when the caller's event does)."""
    message = Message(recipient_id=recipient_id, category=MessageCategory(category), title=title[:100], body=body,
                      link_kind=getattr(related, "__tablename__", None), link_id=getattr(related, "id", None),
                      link_ref=getattr(related, "number", None))
    session.add(message)
    if sms_template and phone:
        outbox.queue_sms(session, phone, sms_template, sms_params or {}, related=related)
    return message


def _category(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        return MessageCategory(value).value
    except ValueError:
        labels = {c.label: c.value for c in MessageCategory}
        if value in labels:
            return labels[value]
        raise DomainError(f"消息分类须为：{'、'.join(c.label for c in MessageCategory)}",
                          code="bad_request") from None


def list_messages(session: Session, user_id: int, *, category=None, page: int = 0) -> list[Message]:
    """Newest first, ``PAGE_SIZE`` a page, optionally one category."""
    stmt = select(Message).where(Message.recipient_id == user_id)
    category = _category(category)
    if category:
        stmt = stmt.where(Message.category == category)
    page = max(0, min(int(page or 0), 10_000))
    return list(session.scalars(stmt.order_by(Message.id.desc()).offset(page * PAGE_SIZE).limit(PAGE_SIZE)))


def unread_counts(session: Session, user_id: int) -> dict[str, int]:
    """Unread messages per category and in total (the badge of S001:L58)."""
    rows = dict(session.execute(select(Message.category, func.count(Message.id))
                                .where(Message.recipient_id == user_id, Message.read_at.is_(None))
                                .group_by(Message.category)).all())
    counts = {c.value: rows.get(c.value, 0) for c in MessageCategory}
    counts["total"] = sum(rows.values())
    return counts


def mark_read(session: Session, user_id: int, message_id: int) -> Message:
    """Mark one of the user's messages read (idempotent). Commits.

    Raises:
        NotFoundError: not his message.
    """
    message = session.get(Message, message_id)
    if message is None or message.recipient_id != user_id:
        raise NotFoundError("消息不存在")
    if message.read_at is None:
        message.read_at = utcnow()
    session.commit()
    return message


def mark_all_read(session: Session, user_id: int, *, category=None) -> int:
    """全部已读 (S001:L58): every unread message of the user (optionally one category). Commits."""
    stmt = update(Message).where(Message.recipient_id == user_id, Message.read_at.is_(None))
    category = _category(category)
    if category:
        stmt = stmt.where(Message.category == category)
    count = session.execute(stmt.values(read_at=utcnow())).rowcount
    session.commit()
    return count


# the member API path of a message's record (「点此去处理」): {ref} its number, {id} its id; the path
# answers 404 to anyone but the record's member
LINKS = {"insured_person": "/api/v1/worker/me", "subsidy_application": "/api/v1/worker/subsidies/{ref}",
         "info_change_request": "/api/v1/worker/info-changes/{ref}",
         "recup_declaration": "/api/v1/recuperation/declarations/{id}",
         "recup_complaint": "/api/v1/recuperation/complaints/{id}",
         "recup_policy": "/api/v1/recuperation/policy"}


def message_json(message: Message) -> dict:
    template = LINKS.get(message.link_kind or "")
    return {"id": message.id, "category": message.category, "category_label": message.category_label,
            "title": message.title, "body": message.body, "link_kind": message.link_kind,
            "link": template.format(ref=message.link_ref or "", id=message.link_id or "") if template else None,
            "read": message.read_at is not None, "created_at": message.created_at.isoformat()}
