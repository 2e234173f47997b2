"""保障活动 (protection plans) and their benefit rules, which are data with versions."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow


class PlanKind(LabeledEnum):
    HOSPITAL = "hospital", "住院医疗"
    CRITICAL = "critical", "重大疾病"
    ACCIDENT = "accident", "意外伤害"
    FEMALE = "female", "女职工安康"
    OTHER = "other", "其他"


class CoverageMode(LabeledEnum):
    FIXED = "fixed", "固定起止日期"          # coverage_start … coverage_end for everyone
    MONTHS = "months", "到账确认次日起N个月"   # from the day after 到账确认, coverage_months long


class ProtectionPlan(Model):
    """保障活动: what a unit enrolls its staff in, priced per share (份)."""

    __tablename__ = "protection_plan"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(100), nullable=False)
    kind = Column(String(16), nullable=False, default=PlanKind.HOSPITAL)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the office offering it
    org = relationship("Org")
    price = Column(Numeric(12, 2), nullable=False)          # 会费单价 per share, normal group
    price_high = Column(Numeric(12, 2))                     # 高危会费单价 per share; NULL: no high-risk group
    max_shares = Column(Integer, nullable=False, default=1)
    coverage_mode = Column(String(10), nullable=False, default=CoverageMode.MONTHS)
    coverage_start = Column(Date)
    coverage_end = Column(Date)
    coverage_months = Column(Integer, default=12)
    eligible_gender = Column(String(8))                     # "female" for 女职工 plans; NULL: everyone
    min_age = Column(Integer)
    max_age = Column(Integer)
    claim_kinds = Column(JSON)                              # names of the claim kinds offered
    on_sale_from = Column(Date)
    on_sale_to = Column(Date)
    enabled = Column(Boolean, default=True)
    attachment_required = Column(Boolean, default=False, server_default=text("false"))  # 参保需上传附件; nullable like enabled (FAB makes a NOT NULL box "required")
    attachment_note = Column(String(200))                                  # what to upload, shown to the unit
    description = Column(Text)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)

    rules = relationship("BenefitRule", order_by="BenefitRule.version", back_populates="plan")

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def kind_label(self) -> str:
        return PlanKind.label_of(self.kind)

    @property
    def has_high_risk(self) -> bool:
        return self.price_high is not None


class BenefitRule(Model):
    """One version of a plan's benefit rule (JSON, checked by ``plans.validate_benefit_rule``);
    a claim records the version it was calculated with, so old cases stay explainable."""

    __tablename__ = "benefit_rule"
    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("protection_plan.id", ondelete="CASCADE"), nullable=False)
    plan = relationship("ProtectionPlan", back_populates="rules")
    version = Column(Integer, nullable=False)
    rule = Column(JSON, nullable=False)
    effective_from = Column(Date, nullable=False)
    note = Column(String(255))
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_benefit_rule_version"),)
