"""投诉 (S000:L47): a member's complaint about a base, handled by the city / county federation."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition


class ComplaintStatus(LabeledEnum):
    PENDING = "pending", "待处理"    # filed by the member, not yet taken
    HANDLING = "handling", "处理中"  # taken by the handler org's staff (or the base's manager)
    CLOSED = "closed", "已办结"      # answered: the reply is shown to the member, who gets a 站内信


# (from, action) → Transition; applied by app/services/review_flow.py (permission on ComplaintView)
COMPLAINT_FLOW: dict[tuple[str, str], Transition] = {
    (ComplaintStatus.PENDING, "take"): Transition(ComplaintStatus.HANDLING, "handle", "受理投诉"),
    (ComplaintStatus.HANDLING, "reply"): Transition(ComplaintStatus.CLOSED, "handle", "答复办结"),
}


class Complaint(Model):
    """投诉: ``org_id`` is the handler org (the base's county federation; the city federation when
    no base is named) — the admins' scope; ``base_id`` the base manager's."""

    __tablename__ = "recup_complaint"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    member = relationship("Member")
    base_id = Column(Integer, ForeignKey("recup_base.id"), index=True)
    base = relationship("RecupBase")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # 处理单位
    org = relationship("Org")
    content = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default=ComplaintStatus.PENDING)
    reply = Column(Text)
    replied_at = Column(UTCDateTime)
    replied_by_id = Column(Integer, ForeignKey("ab_user.id"))
    filed_by_id = Column(Integer, ForeignKey("ab_user.id"))  # the member's account (the 站内信 goes there)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_recup_complaint_org_status", "org_id", "status"),)

    def __repr__(self) -> str:
        return f"投诉 {self.id}" if self.id else "投诉"

    @property
    def status_label(self) -> str:
        return ComplaintStatus.label_of(self.status)

    @property
    def content_brief(self) -> str:
        text = self.content or ""
        return text if len(text) <= 30 else text[:30] + "…"

    @property
    def member_name(self) -> str:
        return self.member.name if self.member else ""
