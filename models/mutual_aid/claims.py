"""申领案件 (S004:L126–154): claim kinds, claims with their work-pool handler, settlement sheets.

A claim is one (insured person, claim kind) accepted at the office or by the member unit
(R-7, A-10). Hospitalization kinds wait in 材料上传 until every required material type has a
file; then every case sits in the 费用录入 pool until a handler takes it (I-8: conditional
UPDATE, one handler per case), is calculated from the plan's benefit rule (data, versioned),
reviewed twice by two different persons, paid by finance and closed.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import relationship

from app.masking import mask_id_number

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition


class ClaimStatus(LabeledEnum):
    MATERIALS = "materials", "材料上传"          # hospitalization kinds: required materials not all uploaded yet
    FEE_ENTRY = "fee_entry", "费用录入"          # in the work pool: 待处理 (no handler) or 处理中 (handler set)
    FIRST_REVIEW = "first_review", "申领初审"    # submitted by the handler, amount > 0 recomputed at submit
    SECOND_REVIEW = "second_review", "复核"      # passed 初审; a different reviewer checks it
    PENDING_PAYMENT = "pending_payment", "待打款"  # passed 复核: finance pays (batch or one by one)
    PAYMENT_FAILED = "payment_failed", "打款失败"  # the bank refused: the handler corrects the payee
    CLOSED = "closed", "结案"                    # paid, or declined (不予给付, amount 0)
    DELETED = "deleted", "已删除"                # deleted before it was ever submitted (soft, trail kept)


class PayeeAccountType(LabeledEnum):
    CARD = "card", "银行卡"                # 12–19 digits, Luhn enforced
    PASSBOOK = "passbook", "存折/其他账户"  # no Luhn; a warning the reviewer confirms


class ClaimAction(LabeledEnum):
    COMPLETE_MATERIALS = "complete_materials", "材料上传完成"
    DELETE = "delete", "删除"
    SUBMIT = "submit", "申领提交"
    APPROVE = "approve", "审核通过"
    RETURN = "return", "退回"
    DECLINE = "decline", "不予给付"
    PAY = "pay", "打款成功"
    FAIL = "fail", "打款失败"
    CORRECT_PAYEE = "correct_payee", "修正收款信息"


# Permissions on ClaimView: accept (受理, 材料, 删除), handle (获取, 费用录入, 提交, 修正收款), review
# (初审, 复核), pay (打款). 获取 / 释放 / 改派 are work-pool operations (app/services/work_pool.py), not
# status changes.
CLAIM_FLOW: dict[tuple[str, str], Transition] = {
    (ClaimStatus.MATERIALS, "complete_materials"): Transition(ClaimStatus.FEE_ENTRY, "accept", "材料上传完成"),
    (ClaimStatus.MATERIALS, "delete"): Transition(ClaimStatus.DELETED, "accept", "删除案件"),
    (ClaimStatus.FEE_ENTRY, "delete"): Transition(ClaimStatus.DELETED, "accept", "删除案件"),
    (ClaimStatus.FEE_ENTRY, "submit"): Transition(ClaimStatus.FIRST_REVIEW, "handle", "申领提交"),
    (ClaimStatus.FIRST_REVIEW, "approve"): Transition(ClaimStatus.SECOND_REVIEW, "review", "初审通过", review=True),
    (ClaimStatus.FIRST_REVIEW, "return"): Transition(ClaimStatus.FEE_ENTRY, "review", "初审退回", review=True,
                                                     needs_reason=True),
    (ClaimStatus.FIRST_REVIEW, "decline"): Transition(ClaimStatus.CLOSED, "review", "不予给付", review=True,
                                                      needs_reason=True),
    (ClaimStatus.SECOND_REVIEW, "approve"): Transition(ClaimStatus.PENDING_PAYMENT, "review", "复核通过",
                                                       review=True),
    (ClaimStatus.SECOND_REVIEW, "return"): Transition(ClaimStatus.FIRST_REVIEW, "review", "复核退回", review=True,
                                                      needs_reason=True),
    (ClaimStatus.SECOND_REVIEW, "decline"): Transition(ClaimStatus.CLOSED, "review", "不予给付", review=True,
                                                       needs_reason=True),
    (ClaimStatus.PENDING_PAYMENT, "pay"): Transition(ClaimStatus.CLOSED, "pay", "打款成功"),
    (ClaimStatus.PENDING_PAYMENT, "fail"): Transition(ClaimStatus.PAYMENT_FAILED, "pay", "打款失败",
                                                      needs_reason=True),
    (ClaimStatus.PAYMENT_FAILED, "correct_payee"): Transition(ClaimStatus.PENDING_PAYMENT, "handle", "修正收款信息"),
}


class ClaimKind(Model):
    """申领类型: which plan kind offers it, whether materials come first, which rule key calculates it."""

    __tablename__ = "claim_kind"
    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(40), nullable=False, unique=True)
    plan_kind = Column(String(16), nullable=False)                  # PlanKind value
    needs_materials_first = Column(Boolean, nullable=False, default=False, server_default=text("false"))
    material_types = Column(JSON)                                    # required material type names
    needs_settlement_sheet = Column(Boolean, nullable=False, default=False, server_default=text("false"))
    formula_key = Column(String(30))                                 # key in the plan's rule "kinds"; default code
    enabled = Column(Boolean, nullable=False, default=True, server_default=text("true"))

    def __repr__(self) -> str:
        return self.name or ""


class Claim(Model):
    """申领案件 of one insured person and one kind. ``org_id`` and ``member_unit_id`` copy the
    enrollment's (the office's subtree scope and the unit's own scope)."""

    __tablename__ = "claim"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    number = Column(String(24), nullable=False, unique=True)
    group_ref = Column(String(24), index=True)        # the cases of one confirmation of one person
    insured_person_id = Column(Integer, ForeignKey("insured_person.id"), nullable=False, index=True)
    insured_person = relationship("InsuredPerson")
    enrollment_plan_id = Column(Integer, ForeignKey("enrollment_plan.id"), nullable=False)
    enrollment_plan = relationship("EnrollmentPlan")
    claim_kind_id = Column(Integer, ForeignKey("claim_kind.id"), nullable=False)
    claim_kind = relationship("ClaimKind")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    member_unit_id = Column(Integer, ForeignKey("member_unit.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False, default=ClaimStatus.MATERIALS)
    handler_id = Column(Integer, ForeignKey("ab_user.id"))           # the work pool: NULL = 待处理
    handler = relationship("AppUser", foreign_keys=[handler_id])
    taken_at = Column(UTCDateTime)
    accepted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    accepted_at = Column(UTCDateTime, default=utcnow, nullable=False)
    status_at = Column(UTCDateTime, default=utcnow, nullable=False)  # since when in this status (queue age)
    # incident (出险信息)
    incident_date = Column(Date)
    incident_type = Column(String(30))
    incident_place = Column(String(100))
    incident_description = Column(Text)
    disability_grade = Column(Integer)                               # 意外伤残 1–10
    # payee (收款信息)
    payee_name = Column(String(50))
    payee_relation = Column(String(20))                              # 本人 / 配偶 / 子女 / 父母 / 其他
    payee_account_type = Column(String(10), default=PayeeAccountType.CARD)
    payee_bank = Column(String(60))
    payee_branch = Column(String(100))
    payee_account = Column(String(32))
    payee_warning = Column(String(100))                              # a passbook, not Luhn-checked
    # calculation (申领计算)
    amount = Column(Numeric(12, 2))
    breakdown = Column(JSON)
    rule_id = Column(Integer, ForeignKey("benefit_rule.id"))
    rule_version = Column(Integer)
    calc_inputs = Column(String(64))                                 # hash of the inputs: stale results refused
    # review and payment
    submitted_at = Column(UTCDateTime)                               # first 申领提交: no deletion after it
    first_reviewer_id = Column(Integer, ForeignKey("ab_user.id"))
    return_reason = Column(String(500))
    declined = Column(Boolean, nullable=False, default=False, server_default=text("false"))
    decline_reason = Column(String(500))
    payment_batch = Column(String(30))
    paid_on = Column(Date)
    payment_reference = Column(String(60))
    payment_failure_reason = Column(String(300))
    closed_at = Column(UTCDateTime)
    deleted_at = Column(UTCDateTime)
    deleted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)

    sheets = relationship("SettlementSheet", back_populates="claim", order_by="SettlementSheet.id",
                          cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_claim_pool", "status", "handler_id", "id"),
        Index("ix_claim_org_status", "org_id", "status"),
    )

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def status_label(self) -> str:
        if self.status == ClaimStatus.CLOSED and self.declined:
            return "结案（不予给付）"
        return ClaimStatus.label_of(self.status)

    @property
    def payee_account_masked(self) -> str:
        value = self.payee_account or ""
        return value if len(value) <= 8 else value[:4] + "*" * (len(value) - 8) + value[-4:]

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.insured_person.id_number if self.insured_person else "")


class SettlementSheet(Model):
    """结算单 of a hospitalization claim: the stay and how its cost was paid."""

    __tablename__ = "settlement_sheet"
    id = Column(Integer, primary_key=True)
    claim_id = Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False, index=True)
    claim = relationship("Claim", back_populates="sheets")
    hospital = Column(String(100), nullable=False)
    admission_date = Column(Date, nullable=False)
    discharge_date = Column(Date, nullable=False)
    total_cost = Column(Numeric(12, 2), nullable=False)        # 住院总费用
    fund_paid = Column(Numeric(12, 2), nullable=False, default=0)       # 统筹支付
    critical_paid = Column(Numeric(12, 2), nullable=False, default=0)   # 大病保险支付
    other_paid = Column(Numeric(12, 2), nullable=False, default=0)      # 其他报销
    self_paid_full = Column(Numeric(12, 2), nullable=False, default=0)  # 全自费
    policy_self_paid = Column(Numeric(12, 2))                  # 政策范围内自付; NULL: derived (C1 proposal)
    receipt_number = Column(String(60))

    @property
    def days(self) -> int:
        """Hospital days: discharge − admission (a same-day stay counts as 1)."""
        return max(1, (self.discharge_date - self.admission_date).days)

    @property
    def base(self):
        """补助基数: the entered policy-scope self-paid, else the subsidy's default (A-2, one formula:
        total − fund − critical − other − self-paid)."""
        if self.policy_self_paid is not None:
            return self.policy_self_paid
        from app.services.mutual_aid.plans import default_base  # (plans imports these models)

        return default_base(self.total_cost, self.fund_paid or 0, self.critical_paid or 0, self.other_paid or 0,
                            self.self_paid_full or 0)
