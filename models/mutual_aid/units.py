"""会员单位 (S004:L25–32): self-registered employer units, reviewed by the office (注册/审核)."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship

from app.masking import mask_phone

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition


class RegistrationStatus(LabeledEnum):
    PENDING = "pending", "待审核"      # registered (mobile proven by SMS), in the office's 注册/审核 pool
    APPROVED = "approved", "已通过"    # account created, login sent by SMS
    REJECTED = "rejected", "已驳回"    # reason sent by SMS; the applicant fixes and resubmits
    DISABLED = "disabled", "已停用"    # the office switched the unit off (its account cannot log in)


# (from, action) -> Transition(to, permission on MemberUnitView)
REGISTRATION_FLOW: dict[tuple[str, str], Transition] = {
    (RegistrationStatus.PENDING, "approve"): Transition(RegistrationStatus.APPROVED, "review", "审核通过", review=True),
    (RegistrationStatus.PENDING, "reject"): Transition(RegistrationStatus.REJECTED, "review", "驳回", review=True,
                                                       needs_reason=True),
    (RegistrationStatus.REJECTED, "resubmit"): Transition(RegistrationStatus.PENDING, "resubmit", "重新提交"),
    (RegistrationStatus.APPROVED, "disable"): Transition(RegistrationStatus.DISABLED, "operate", "停用",
                                                         needs_reason=True),
    (RegistrationStatus.DISABLED, "enable"): Transition(RegistrationStatus.APPROVED, "operate", "启用"),
}


class MemberUnit(Model):
    """会员单位: the employer that enrolls its staff; ``org_id`` is the office (办事处) reviewing it."""

    __tablename__ = "member_unit"
    __audited__ = True
    __audit_masked__ = {"contact_mobile": mask_phone}

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, index=True)
    uscc = Column(String(18), nullable=False, unique=True)
    nature = Column(String(16))                    # models.organizations.UnitNature
    address = Column(String(255))
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # region / office
    org = relationship("Org")
    unit_id = Column(Integer, ForeignKey("unit.id"))  # optional link to the union's unit registry
    contact_name = Column(String(50), nullable=False)
    contact_mobile = Column(String(11), nullable=False)
    email = Column(String(254), nullable=False)    # invoices are mailed here
    invoice_title = Column(String(120))
    tax_number = Column(String(20))
    status = Column(String(12), nullable=False, default=RegistrationStatus.PENDING)
    reject_reason = Column(String(500))
    username = Column(String(64))                  # the unit handler's login, set on approval
    registered_at = Column(UTCDateTime, default=utcnow, nullable=False)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (Index("ix_member_unit_org_status", "org_id", "status"),)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def status_label(self) -> str:
        return RegistrationStatus.label_of(self.status)

    @property
    def nature_label(self) -> str:
        from ..organizations import UnitNature

        return UnitNature.label_of(self.nature)

    @property
    def contact_mobile_masked(self) -> str:
        return mask_phone(self.contact_mobile)
