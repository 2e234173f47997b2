"""投诉 (S000:L47): a member files a complaint about a base ("疗休养基地价格不得高于团队价" and other
infringements); the city / county federation's staff — and the base's own manager, for its base —
take it (处理中) and answer it (已办结); the member gets a 站内信 with the reply.

Status changes go through the one review-flow engine (``COMPLAINT_FLOW``), files through the one
attachment store.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import scope_clause
from app.services import attachments, review_flow
from app.services.errors import DomainError, NotFoundError
from models.base import DISPLAY_TZ, utcnow
from models.members import Member
from models.organizations import Org
from models.recuperation import COMPLAINT_FLOW, Complaint, ComplaintStatus, RecupBase

from . import notifications
from . import policy as policies

MAX_CONTENT = 2000
MAX_REPLY = 2000
MAX_FILES = 5
FILE_KIND = "complaint_file"


def _free_text(value) -> str:
    """Prose as typed: Chinese punctuation kept (no NFKC, unlike names and numbers), blanks trimmed."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def handler_org(session: Session, base: RecupBase | None, member: Member) -> Org:
    """The org that handles it: the base's county federation; without a base, the member's county;
    else the city federation (the root)."""
    if base is not None:
        return session.get(Org, base.org_id)
    county = policies.county_of(session, member.org_id)
    if county is not None:
        return county
    return session.scalar(select(Org).where(Org.parent_id.is_(None)).order_by(Org.id).limit(1))


def file_complaint(session: Session, *, member: Member, actor, content, base_id=None,
                   files: list[tuple[str, bytes]] | None = None) -> Complaint:
    """投诉 by a member: content 5–2000 characters, an optional base, at most 5 pictures / PDFs.
    Commits.

    Raises:
        DomainError: blank or too long content, unknown base, too many or refused files.
    """
    text = _free_text(content)
    errors = []
    if len(text) < 5:
        errors.append("请填写投诉内容（至少5个字）")
    elif len(text) > MAX_CONTENT:
        errors.append(f"投诉内容最多 {MAX_CONTENT} 字")
    base = None
    if base_id not in (None, ""):
        if isinstance(base_id, bool) or not isinstance(base_id, int) or not 0 < base_id < 2**31:
            errors.append("基地编号有误")
        else:
            base = session.get(RecupBase, base_id)
            if base is None:
                errors.append("所选基地不存在")
    files = files or []
    if len(files) > MAX_FILES:
        errors.append(f"附件最多 {MAX_FILES} 个")
    if errors:
        raise DomainError("；".join(errors), code="bad_request")
    try:
        complaint = Complaint(member_id=member.id, base_id=base.id if base else None,
                              org_id=handler_org(session, base, member).id, content=text,
                              status=ComplaintStatus.PENDING, filed_by_id=getattr(actor, "id", None))
        session.add(complaint)
        session.flush()
        for name, data in files:
            attachments.add_attachment(session, owner=complaint, kind=FILE_KIND, file_name=name, data=data,
                                       actor=actor)
        session.commit()
        return complaint
    except DomainError:
        session.rollback()
        raise


def member_complaints(session: Session, member_id: int) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.member_id == member_id)
                                .order_by(Complaint.id.desc()).limit(200)))


def member_complaint(session: Session, member_id: int, complaint_id: int) -> Complaint:
    """Raises NotFoundError: not his complaint."""
    found = session.scalar(select(Complaint).where(Complaint.id == complaint_id, Complaint.member_id == member_id))
    if found is None:
        raise NotFoundError("记录不存在")
    return found


def staff_scope(actor):
    """The back office's scope on complaints: the handler org's subtree, or the manager's own base."""
    return scope_clause(Complaint.org_id, actor, base_column=Complaint.base_id)


def take_complaint(session: Session, complaint_id: int, *, actor) -> Complaint:
    """受理: 待处理 → 处理中. Commits.

    Raises:
        NotFoundError (outside scope), InvalidTransitionError.
    """
    try:
        complaint = review_flow.apply_transition(session, Complaint, complaint_id, "take", flow=COMPLAINT_FLOW,
                                                 actor=actor, scope_clause=staff_scope(actor),
                                                 status_labels=ComplaintStatus)
        session.commit()
        return complaint
    except DomainError:
        session.rollback()
        raise


def reply_complaint(session: Session, complaint_id: int, *, actor, reply) -> Complaint:
    """答复办结: 处理中 → 已办结 with the reply; the member gets the 站内信 "投诉已答复". Commits.

    Raises:
        NotFoundError (outside scope), InvalidTransitionError, DomainError (blank or too long reply).
    """
    text = _free_text(reply)
    try:
        if len(text) < 2:
            raise DomainError("请填写答复内容", field="reply")
        if len(text) > MAX_REPLY:
            raise DomainError(f"答复内容最多 {MAX_REPLY} 字", field="reply")
        complaint = review_flow.apply_transition(session, Complaint, complaint_id, "reply", flow=COMPLAINT_FLOW,
                                                 actor=actor, reason=text[:500], scope_clause=staff_scope(actor),
                                                 status_labels=ComplaintStatus)
        complaint.reply, complaint.replied_at = text, utcnow()
        complaint.replied_by_id = getattr(actor, "id", None)
        notifications.complaint_answered(session, complaint)
        session.commit()
        return complaint
    except DomainError:
        session.rollback()
        raise


def describe(session: Session, complaint: Complaint) -> dict:
    """The complaint as the member API shows it."""
    files = attachments.attachments_of(session, complaint, FILE_KIND)
    return {"id": complaint.id, "base": complaint.base.name if complaint.base else None,
            "base_id": complaint.base_id, "handler": complaint.org.name if complaint.org else None,
            "content": complaint.content, "status": complaint.status, "status_label": complaint.status_label,
            "reply": complaint.reply,
            "replied_at": complaint.replied_at.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
            if complaint.replied_at else None,
            "created_at": complaint.created_at.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M"),
            "attachments": [{"id": a.id, "file_name": a.file_name} for a in files]}
