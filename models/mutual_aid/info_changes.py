"""个人信息变更 (S001:L93–143): a worker's request to change his insured identity, BG… numbers."""
from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition


class InfoChangeStatus(LabeledEnum):
    DRAFT = "draft", "草稿"                      # rejected (初核 or 复核): the worker resubmits or deletes it
    PENDING_FIRST = "pending_first", "待初核"    # submitted (确认提交)
    PENDING_SECOND = "pending_second", "待复核"  # 初核 approved
    DONE = "done", "办结"                        # 复核 approved: the change applied field by field


INFO_CHANGE_FLOW: dict[tuple[str, str], Transition] = {
    (InfoChangeStatus.DRAFT, "submit"): Transition(InfoChangeStatus.PENDING_FIRST, "submit", "提交变更"),
    (InfoChangeStatus.PENDING_FIRST, "approve_first"): Transition(InfoChangeStatus.PENDING_SECOND, "review",
                                                                  "初核通过", review=True),
    (InfoChangeStatus.PENDING_FIRST, "reject"): Transition(InfoChangeStatus.DRAFT, "review", "初核驳回",
                                                           review=True, needs_reason=True),
    (InfoChangeStatus.PENDING_SECOND, "approve_second"): Transition(InfoChangeStatus.DONE, "review", "复核通过",
                                                                    review=True),
    (InfoChangeStatus.PENDING_SECOND, "reject_second"): Transition(InfoChangeStatus.DRAFT, "review", "复核驳回",
                                                                   review=True, needs_reason=True),
}
UNFINISHED = (InfoChangeStatus.DRAFT, InfoChangeStatus.PENDING_FIRST, InfoChangeStatus.PENDING_SECOND)

# the fields a request may change (S001:L110–117), in the seed's order, with their labels
FIELDS = {"name": "姓名", "phone": "手机号", "id_type": "证件类型", "id_number": "证件号码", "birth_date": "出生日期",
          "gender": "性别", "social_insurance_type": "社保类型", "social_insurance_no": "社保卡号"}
EVIDENCE = "evidence"  # attachment kind: 变更凭证


class InfoChangeRequest(Model):
    """One change request; ``open_owner`` holds the applicant while unfinished (unique: one at a time)."""

    __tablename__ = "info_change_request"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    number = Column(String(24), nullable=False, unique=True)
    applicant_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    org = relationship("Org")
    id_number = Column(String(32), nullable=False)     # the identity the change applies to (before)
    status = Column(String(16), nullable=False, default=InfoChangeStatus.DRAFT, index=True)
    before = Column(JSON, nullable=False)
    after = Column(JSON, nullable=False)
    reason = Column(String(500))                       # the worker's explanation
    reject_reason = Column(String(500))
    open_owner = Column(Integer, unique=True)          # applicant_id while unfinished, else NULL
    status_at = Column(UTCDateTime, default=utcnow, nullable=False)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    done_at = Column(UTCDateTime)

    __table_args__ = (Index("ix_info_change_request_org_status", "org_id", "status"),)

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def status_label(self) -> str:
        return InfoChangeStatus.label_of(self.status)

    @property
    def applicant_name(self) -> str:
        return (self.before or {}).get("name", "")

    @property
    def changed_fields(self) -> list[str]:
        return [k for k in FIELDS if (self.before or {}).get(k) != (self.after or {}).get(k)]

    @property
    def changed_label(self) -> str:
        return "、".join(FIELDS[k] for k in self.changed_fields)

    @property
    def age_label(self) -> str:
        seconds = int((utcnow() - self.status_at).total_seconds())
        days, hours = divmod(seconds // 3600, 24)
        return f"{days}天{hours}小时" if days else f"{hours}小时{seconds % 3600 // 60}分"
