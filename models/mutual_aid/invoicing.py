"""开票录入 and 结算期 (S004:L14, L67–76): invoice requests per plan line, monthly settlement periods."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow


class InvoiceType(LabeledEnum):
    NORMAL = "normal", "增值税普通发票"
    SPECIAL = "special", "增值税专用发票"


class InvoiceStatus(LabeledEnum):
    DRAFT = "draft", "草稿"            # entered by the unit, still editable
    SUBMITTED = "submitted", "已提交"  # submitted with the enrollment (待到账确认)
    ISSUED = "issued", "已开具"        # finance issued it (invoice PDF stored)
    SENT = "sent", "已发送"            # the PDF was queued to the unit's mailbox


class InvoiceRequest(Model):
    """开票信息: one line names its plan (A-6); Σ lines = payable, Σ persons = insured count (C3)."""

    __tablename__ = "invoice_request"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    enrollment_id = Column(Integer, ForeignKey("enrollment.id", ondelete="CASCADE"), nullable=False, index=True)
    enrollment = relationship("Enrollment")
    enrollment_plan_id = Column(Integer, ForeignKey("enrollment_plan.id", ondelete="CASCADE"), nullable=False)
    enrollment_plan = relationship("EnrollmentPlan")
    invoice_type = Column(String(10), nullable=False, default=InvoiceType.NORMAL)
    title = Column(String(120), nullable=False)
    tax_number = Column(String(20))
    email = Column(String(254), nullable=False)
    persons = Column(Integer, nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    remark = Column(String(255))
    status = Column(String(10), nullable=False, default=InvoiceStatus.DRAFT)
    settlement_month = Column(String(7))
    issued_at = Column(UTCDateTime)
    issued_by_id = Column(Integer, ForeignKey("ab_user.id"))
    pdf_attachment_id = Column(Integer, ForeignKey("attachment.id"))
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (Index("ix_invoice_request_month", "settlement_month", "status"),)

    def __repr__(self) -> str:
        return f"{self.title} {self.amount}"

    @property
    def status_label(self) -> str:
        return InvoiceStatus.label_of(self.status)

    @property
    def unit_price(self) -> Decimal:
        """人均单价 as shown (rounded half-up to the fen; checks compare the exact quotient)."""
        return (Decimal(self.amount) / self.persons).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def type_label(self) -> str:
        return InvoiceType.label_of(self.invoice_type)


class PeriodStatus(LabeledEnum):
    OPEN = "open", "开放"
    SETTLED = "settled", "已结算"   # no invoice of this period is created, changed or issued any more


class SettlementPeriod(Model):
    """结算期 ``YYYY-MM``: from the previous month's settlement day + 1, 00:00 to the day's 24:00 (Beijing)."""

    __tablename__ = "settlement_period"
    month = Column(String(7), primary_key=True)
    closes_at = Column(UTCDateTime, nullable=False)
    status = Column(String(10), nullable=False, default=PeriodStatus.OPEN)
    settled_at = Column(UTCDateTime)
    settled_by_id = Column(Integer, ForeignKey("ab_user.id"))

    def __repr__(self) -> str:
        return self.month

    @property
    def status_label(self) -> str:
        return PeriodStatus.label_of(self.status)
