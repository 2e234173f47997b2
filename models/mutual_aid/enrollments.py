"""参保单 (S004:L43–76): an enrollment of a member unit, its plans with shares and person lists."""
from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.masking import mask_id_number, mask_phone

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition


class EnrollmentStatus(LabeledEnum):
    DRAFT = "draft", "录入中"                 # the unit chooses plans, imports persons, enters counts
    PENDING_REVIEW = "pending_review", "待初审"  # submitted (完成): locked, in the office's 初审 queue
    RETURNED = "returned", "初审退回"          # returned with a reason: editable again (继续录入)
    INVOICING = "invoicing", "待开票"          # 初审 passed (SMS sent): the unit enters invoice requests
    PENDING_PAYMENT = "pending_payment", "待到账确认"  # invoices submitted: finance confirms the payment
    EFFECTIVE = "effective", "已生效"          # payment confirmed: coverage dates set, letter v1 made


EDITABLE = (EnrollmentStatus.DRAFT, EnrollmentStatus.RETURNED)

# (from, action) -> Transition(to, permission on EnrollmentView)
ENROLLMENT_FLOW: dict[tuple[str, str], Transition] = {
    (EnrollmentStatus.DRAFT, "submit"): Transition(EnrollmentStatus.PENDING_REVIEW, "submit", "提交初审"),
    (EnrollmentStatus.RETURNED, "submit"): Transition(EnrollmentStatus.PENDING_REVIEW, "submit", "提交初审"),
    (EnrollmentStatus.PENDING_REVIEW, "approve"): Transition(EnrollmentStatus.INVOICING, "review", "初审通过",
                                                             review=True),
    (EnrollmentStatus.PENDING_REVIEW, "return"): Transition(EnrollmentStatus.RETURNED, "review", "初审退回",
                                                            review=True, needs_reason=True),
    (EnrollmentStatus.INVOICING, "submit_invoices"): Transition(EnrollmentStatus.PENDING_PAYMENT, "invoice",
                                                                "提交开票信息"),
    (EnrollmentStatus.PENDING_PAYMENT, "confirm_payment"): Transition(EnrollmentStatus.EFFECTIVE, "confirm",
                                                                      "到账确认", review=True),
    (EnrollmentStatus.PENDING_PAYMENT, "return_payment"): Transition(EnrollmentStatus.INVOICING, "confirm",
                                                                     "到账退回", review=True, needs_reason=True),
}


class RiskGroup(LabeledEnum):
    NORMAL = "normal", "普通"
    HIGH = "high", "高危"


class PersonStatus(LabeledEnum):
    ACTIVE = "active", "有效"
    TRANSFERRED_OUT = "transferred_out", "已调出"   # moved to another unit's enrollment (人员调入), coverage kept


class Enrollment(Model):
    """参保单 of one member unit. ``org_id`` copies the unit's office (the office's subtree scope)."""

    __tablename__ = "enrollment"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    member_unit_id = Column(Integer, ForeignKey("member_unit.id"), nullable=False, index=True)
    member_unit = relationship("MemberUnit")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    org = relationship("Org")
    status = Column(String(16), nullable=False, default=EnrollmentStatus.DRAFT, index=True)
    staff_count = Column(Integer)                # 在职职工人数 (S004:L56)
    female_staff_count = Column(Integer)         # 在职女职工人数
    note = Column(Text)                          # 参保说明
    return_reason = Column(String(500))          # the last 初审 / payment return reason, shown on 继续录入
    payable = Column(Numeric(12, 2))             # C2, fixed at submission
    submitted_at = Column(UTCDateTime)
    invoices_submitted_at = Column(UTCDateTime)
    settlement_month = Column(String(7))         # YYYY-MM: of 到账确认, or of the invoice submission while unpaid
    paid_amount = Column(Numeric(12, 2))
    paid_on = Column(Date)                       # the bank's value date
    bank_reference = Column(String(60))
    paid_at = Column(UTCDateTime)                # when finance confirmed (decides the period)
    paid_by_id = Column(Integer, ForeignKey("ab_user.id"))
    coverage_start = Column(Date)
    coverage_end = Column(Date)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    plans = relationship("EnrollmentPlan", back_populates="enrollment", order_by="EnrollmentPlan.id",
                         cascade="all, delete-orphan")

    __table_args__ = (Index("ix_enrollment_org_status", "org_id", "status"),)

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def status_label(self) -> str:
        return EnrollmentStatus.label_of(self.status)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


class EnrollmentPlan(Model):
    """One plan of an enrollment with its shares (every person of the plan has the same number)."""

    __tablename__ = "enrollment_plan"
    id = Column(Integer, primary_key=True)
    enrollment_id = Column(Integer, ForeignKey("enrollment.id", ondelete="CASCADE"), nullable=False)
    enrollment = relationship("Enrollment", back_populates="plans")
    plan_id = Column(Integer, ForeignKey("protection_plan.id"), nullable=False)
    plan = relationship("ProtectionPlan")
    shares = Column(Integer, nullable=False, default=1)

    __table_args__ = (UniqueConstraint("enrollment_id", "plan_id", name="uq_enrollment_plan"),)

    def __repr__(self) -> str:
        return f"{self.plan.name if self.plan else ''} × {self.shares}份"


class InsuredPerson(Model):
    """参保人 of one enrollment plan; unique per (plan line, ID number)."""

    __tablename__ = "insured_person"
    id = Column(Integer, primary_key=True)
    enrollment_plan_id = Column(Integer, ForeignKey("enrollment_plan.id", ondelete="CASCADE"), nullable=False)
    enrollment_plan = relationship("EnrollmentPlan")
    enrollment_id = Column(Integer, ForeignKey("enrollment.id", ondelete="CASCADE"), nullable=False)
    plan_id = Column(Integer, ForeignKey("protection_plan.id"), nullable=False)
    name = Column(String(50), nullable=False)
    id_type = Column(String(16), nullable=False, default="resident")
    id_number = Column(String(32), nullable=False)
    mobile = Column(String(11))
    gender = Column(String(8))
    birth_date = Column(Date)
    risk_group = Column(String(8), nullable=False, default=RiskGroup.NORMAL)
    social_insurance_type = Column(String(30))
    social_insurance_no = Column(String(40))
    status = Column(String(16), nullable=False, default=PersonStatus.ACTIVE)
    coverage_start = Column(Date)
    coverage_end = Column(Date)
    transferred_from_id = Column(Integer, ForeignKey("insured_person.id"))
    member_id = Column(Integer, ForeignKey("member.id"))
    remark = Column(String(255))
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("enrollment_plan_id", "id_number", name="uq_insured_person_line_id"),
        Index("ix_insured_person_plan_id_number", "plan_id", "id_number"),
        Index("ix_insured_person_enrollment", "enrollment_id", "id"),
    )

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def mobile_masked(self) -> str:
        return mask_phone(self.mobile)

    @property
    def risk_group_label(self) -> str:
        return RiskGroup.label_of(self.risk_group)

    @property
    def status_label(self) -> str:
        return PersonStatus.label_of(self.status)
