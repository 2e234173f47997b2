"""会员服务卡 (seed 002): card batches applied by base unions, the cards, the yearly coverage
registrations (专享基本保障) and the benefit claims filed by the member's union."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from app.masking import mask_id_number, mask_phone

from .base import LabeledEnum, Model, UTCDateTime, utcnow
from .review import Transition


class BatchStatus(LabeledEnum):
    DRAFT = "draft", "待提交"          # the base union imports applications; editable
    SUBMITTED = "submitted", "已提交"  # sent to the county / aid centre, locked
    RECEIVED = "received", "已接收"    # 交接 done: counts checked by the county
    OPENING = "opening", "开户中"      # account-opening summary handed over to the bank
    ISSUED = "issued", "已制卡"        # the bank's result imported: every line has a card serial


BATCH_FLOW: dict[tuple[str, str], Transition] = {
    (BatchStatus.DRAFT, "submit"): Transition(BatchStatus.SUBMITTED, "submit", "提交批次"),
    (BatchStatus.SUBMITTED, "receive"): Transition(BatchStatus.RECEIVED, "receive", "接收交接", review=True),
    (BatchStatus.SUBMITTED, "return"): Transition(BatchStatus.DRAFT, "receive", "退回", review=True,
                                                  needs_reason=True),
    (BatchStatus.RECEIVED, "hand_over"): Transition(BatchStatus.OPENING, "bank", "移交银行开户"),
    (BatchStatus.OPENING, "issue"): Transition(BatchStatus.ISSUED, "bank", "银行制卡完成"),
}


class CardStatus(LabeledEnum):
    OPENING = "opening", "开户中"      # handed to the bank, no serial yet
    MADE = "made", "已制卡"            # the bank returned the card serial
    NORMAL = "normal", "正常"          # distributed to the member: valid
    LOST = "lost", "挂失"              # reported lost: not valid until the report is cancelled
    CANCELLED = "cancelled", "已注销"  # replaced or the member left; never active again


CARD_FLOW: dict[tuple[str, str], Transition] = {
    (CardStatus.OPENING, "made"): Transition(CardStatus.MADE, "bank", "银行制卡"),
    (CardStatus.MADE, "distribute"): Transition(CardStatus.NORMAL, "distribute", "发放"),
    (CardStatus.NORMAL, "report_loss"): Transition(CardStatus.LOST, "report_loss", "挂失"),
    (CardStatus.LOST, "cancel_loss"): Transition(CardStatus.NORMAL, "report_loss", "解除挂失"),
    (CardStatus.LOST, "reissue"): Transition(CardStatus.CANCELLED, "reissue", "补卡", needs_reason=True),
    (CardStatus.NORMAL, "reissue"): Transition(CardStatus.CANCELLED, "reissue", "换卡", needs_reason=True),
    (CardStatus.NORMAL, "cancel"): Transition(CardStatus.CANCELLED, "cancel", "注销", needs_reason=True),
    (CardStatus.LOST, "cancel"): Transition(CardStatus.CANCELLED, "cancel", "注销", needs_reason=True),
    # the membership ended before the card was distributed: it is never handed out
    (CardStatus.OPENING, "cancel"): Transition(CardStatus.CANCELLED, "cancel", "注销", needs_reason=True),
    (CardStatus.MADE, "cancel"): Transition(CardStatus.CANCELLED, "cancel", "注销", needs_reason=True),
}
ACTIVE_CARD = (CardStatus.OPENING, CardStatus.MADE, CardStatus.NORMAL, CardStatus.LOST)


class CardBatch(Model):
    """办卡批次 of one base union with its 基层工会信息汇总表 and the 交接 records."""

    __tablename__ = "card_batch"
    id = Column(Integer, primary_key=True)
    number = Column(String(24), nullable=False, unique=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    org = relationship("Org")
    status = Column(String(16), nullable=False, default=BatchStatus.DRAFT)
    member_count = Column(Integer, nullable=False, default=0)
    # 基层工会信息汇总表 (S002:L31)
    union_name = Column(String(120), nullable=False)
    union_code = Column(String(16))
    union_uscc = Column(String(18))
    contact = Column(String(50))
    phone = Column(String(20))
    address = Column(String(255))
    declared_count = Column(Integer)          # 会员人数 as the union declares it
    id_copies_received = Column(Boolean, default=False)  # 身份证复印件已盖章 (S002:L33)
    submitted_at = Column(UTCDateTime)
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    submitted_by = relationship("AppUser", foreign_keys=[submitted_by_id])
    received_at = Column(UTCDateTime)
    received_by_id = Column(Integer, ForeignKey("ab_user.id"))
    received_by = relationship("AppUser", foreign_keys=[received_by_id])
    counted = Column(Integer)                 # 交接: members counted on the paper list
    handover_remark = Column(String(255))
    return_reason = Column(String(255))
    bank_at = Column(UTCDateTime)
    bank_by_id = Column(Integer, ForeignKey("ab_user.id"))
    bank_by = relationship("AppUser", foreign_keys=[bank_by_id])
    created_at = Column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_card_batch_org_status", "org_id", "status"),)

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def status_label(self) -> str:
        return BatchStatus.label_of(self.status)


class CardApplication(Model):
    """One line of a batch (工会会员信息汇总表), imported through the kind ``card_application``."""

    __tablename__ = "card_application"
    id = Column(Integer, primary_key=True)
    batch_id = Column(Integer, ForeignKey("card_batch.id", ondelete="CASCADE"), nullable=False)
    batch = relationship("CardBatch", backref="applications")
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    member = relationship("Member")
    name = Column(String(50), nullable=False)
    id_type = Column(String(16), nullable=False)
    id_number = Column(String(32), nullable=False)
    phone = Column(String(11), nullable=False)
    gender = Column(String(8))
    birth_date = Column(Date)
    address = Column(String(255))
    member_no = Column(String(10), nullable=False)

    __table_args__ = (UniqueConstraint("batch_id", "member_id", name="uq_card_application_member"),
                      Index("ix_card_application_batch_id_number", "batch_id", "id_number"))

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class ServiceCard(Model):
    """会员服务卡: one active card per member; the barcode is the member number (S002:L57)."""

    __tablename__ = "service_card"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    member = relationship("Member")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the member's base union
    org = relationship("Org")
    batch_id = Column(Integer, ForeignKey("card_batch.id"), index=True)
    batch = relationship("CardBatch")
    member_no = Column(String(10), nullable=False)       # text: the leading zeros stay
    district_name = Column(String(120), nullable=False)  # 卡面上方: the district/industry union of issue
    serial = Column(String(32), unique=True)             # from the bank
    bank_account = Column(String(32))
    status = Column(String(16), nullable=False, default=CardStatus.OPENING)
    issued_at = Column(UTCDateTime)                      # distributed (正常 since)
    replaces_id = Column(Integer, ForeignKey("service_card.id"))
    created_at = Column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("uq_service_card_active_member", "member_id", unique=True,
              postgresql_where=text("status <> 'cancelled'"), sqlite_where=text("status <> 'cancelled'")),
        Index("ix_service_card_org_status", "org_id", "status"),
    )

    def __repr__(self) -> str:
        return self.member_no or ""

    @property
    def status_label(self) -> str:
        return CardStatus.label_of(self.status)

    @property
    def bank_account_masked(self) -> str:
        value = self.bank_account or ""
        return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}" if len(value) > 8 else value


class CoverageStatus(LabeledEnum):
    ACTIVE = "active", "有效"          # the period covers the member
    TERMINATED = "terminated", "终止"  # ended early (membership ended): covers the days before terminated_on


class CoverageRegistration(Model):
    """年度注册 / 专享基本保障 (S002:L56–63): no overlapping periods per member."""

    __tablename__ = "coverage_registration"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False)
    member = relationship("Member")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the funding union
    org = relationship("Org")
    batch_id = Column(Integer, ForeignKey("card_batch.id"))
    registered_on = Column(Date, nullable=False)  # Beijing date (A-13: the batch's submission)
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    fee = Column(Numeric(8, 2), nullable=False)   # borne by the unions, never the member
    status = Column(String(16), nullable=False, default=CoverageStatus.ACTIVE)
    terminated_on = Column(Date)  # Beijing date the membership ended: the last covered day is the day before
    created_at = Column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("member_id", "period_start", name="uq_coverage_member_start"),
        Index("ix_coverage_member_period", "member_id", "period_start", "period_end"),
        Index("ix_coverage_org_period", "org_id", "period_start"),
    )

    def __repr__(self) -> str:
        return f"{self.period_start} 至 {self.period_end}"

    @property
    def status_label(self) -> str:
        return CoverageStatus.label_of(self.status)


class BenefitKind(LabeledEnum):
    CRITICAL = "critical", "重大疾病"
    DISABILITY = "disability", "意外全残"
    DEATH = "death", "意外身故"


class DiseaseCategory(LabeledEnum):
    CANCER = "cancer", "恶性肿瘤"
    RENAL = "renal", "终末期肾病（尿毒症期）"
    BRAIN = "brain", "良性脑肿瘤"
    TRANSPLANT = "transplant", "重大器官移植术或造血干细胞移植术"


class ClaimStatus(LabeledEnum):
    FILED = "filed", "待审核"        # filed by the member's union at the city centre
    APPROVED = "approved", "待给付"  # reviewed by the centre, awaiting payment
    PAID = "paid", "已给付"          # paid through the partner bank
    REJECTED = "rejected", "不予给付"  # declined with a reason


CLAIM_FLOW: dict[tuple[str, str], Transition] = {
    (ClaimStatus.FILED, "approve"): Transition(ClaimStatus.APPROVED, "review", "审核通过", review=True),
    (ClaimStatus.FILED, "reject"): Transition(ClaimStatus.REJECTED, "review", "不予给付", review=True,
                                              needs_reason=True),
    (ClaimStatus.APPROVED, "pay"): Transition(ClaimStatus.PAID, "pay", "确认给付"),
}
COUNTED_CLAIM = (ClaimStatus.FILED, ClaimStatus.APPROVED, ClaimStatus.PAID)


class CardBenefitClaim(Model):
    """给付 (S002:L65–68) of one member, filed by his union."""

    __tablename__ = "card_benefit_claim"
    id = Column(Integer, primary_key=True)
    number = Column(String(24), nullable=False, unique=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    member = relationship("Member")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the filing union
    org = relationship("Org")
    coverage_id = Column(Integer, ForeignKey("coverage_registration.id"), nullable=False)
    coverage = relationship("CoverageRegistration")
    kind = Column(String(16), nullable=False)
    incident_date = Column(Date, nullable=False)       # first diagnosis or the accident
    established_on = Column(Date)                      # disability / death established
    disease_category = Column(String(16))
    hospitalized = Column(Boolean, default=False)
    beneficiary = Column(String(50))
    amount = Column(Numeric(10, 2), nullable=False)
    materials = Column(Text)
    status = Column(String(16), nullable=False, default=ClaimStatus.FILED)
    filed_by_id = Column(Integer, ForeignKey("ab_user.id"))
    filed_at = Column(UTCDateTime, default=utcnow)
    paid_at = Column(UTCDateTime)

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def status_label(self) -> str:
        return ClaimStatus.label_of(self.status)

    @property
    def kind_label(self) -> str:
        return BenefitKind.label_of(self.kind)
