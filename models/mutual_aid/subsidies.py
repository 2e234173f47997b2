"""补助申请 (S001:L45–91): a worker's hospitalization subsidy application, ZY… numbers."""
from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition


class SubsidyStatus(LabeledEnum):
    DRAFT = "draft", "草稿"                      # the worker fills the 3 steps; a 初核 rejection comes back here
    PENDING_FIRST = "pending_first", "待初核"    # submitted: locked, in the reviewers' 初核 queue
    PENDING_SECOND = "pending_second", "待复核"  # 初核 approved with the amount (C1): a second reviewer checks
    APPROVED = "approved", "审核通过"            # 待打款: in finance's payment queue
    PAY_FAILED = "pay_failed", "打款失败"        # the bank refused: the worker corrects the account
    DONE = "done", "办结"                        # paid: the worker was told the amount and the card tail


class AccountType(LabeledEnum):
    CARD = "card", "银行卡"            # 12–19 digits, Luhn enforced
    PASSBOOK = "passbook", "存折/其他账户"  # no Luhn: the reviewer confirms the number


SUBSIDY_FLOW: dict[tuple[str, str], Transition] = {
    (SubsidyStatus.DRAFT, "submit"): Transition(SubsidyStatus.PENDING_FIRST, "submit", "提交审核"),
    (SubsidyStatus.PENDING_FIRST, "approve_first"): Transition(SubsidyStatus.PENDING_SECOND, "review", "初核通过",
                                                               review=True),
    (SubsidyStatus.PENDING_FIRST, "reject"): Transition(SubsidyStatus.DRAFT, "review", "初核驳回", review=True,
                                                        needs_reason=True),
    (SubsidyStatus.PENDING_SECOND, "approve_second"): Transition(SubsidyStatus.APPROVED, "review", "复核通过",
                                                                 review=True),
    (SubsidyStatus.PENDING_SECOND, "return"): Transition(SubsidyStatus.PENDING_FIRST, "review", "复核退回",
                                                         review=True, needs_reason=True),
    (SubsidyStatus.APPROVED, "pay"): Transition(SubsidyStatus.DONE, "pay", "已打款"),
    (SubsidyStatus.APPROVED, "pay_fail"): Transition(SubsidyStatus.PAY_FAILED, "pay", "打款失败", needs_reason=True),
    (SubsidyStatus.PAY_FAILED, "correct_payee"): Transition(SubsidyStatus.APPROVED, "submit", "修正收款账户"),
}
# one review stage only (setting SUBSIDY_SECOND_REVIEW = False): 初核 leads straight to 审核通过
SINGLE_REVIEW_FLOW = {
    **{k: t for k, t in SUBSIDY_FLOW.items() if k[0] != SubsidyStatus.PENDING_SECOND},
    (SubsidyStatus.PENDING_FIRST, "approve_first"): Transition(SubsidyStatus.APPROVED, "review", "初核通过",
                                                               review=True),
}
OPEN = (SubsidyStatus.DRAFT, SubsidyStatus.PENDING_FIRST, SubsidyStatus.PENDING_SECOND, SubsidyStatus.APPROVED,
        SubsidyStatus.PAY_FAILED)

# the worker's progress bar (S001:L51, L81)
PROGRESS = [("申请补助", (SubsidyStatus.DRAFT,)),
            ("补助审核", (SubsidyStatus.PENDING_FIRST, SubsidyStatus.PENDING_SECOND)),
            ("审核通过", (SubsidyStatus.APPROVED, SubsidyStatus.PAY_FAILED)),
            ("办结", (SubsidyStatus.DONE,))]

# attachment kinds of an application
ID_FRONT, ID_BACK, RECEIPT, RELATION_PROOF = "id_front", "id_back", "receipt", "relation_proof"


class SubsidyApplication(Model):
    """住院医疗补助申请 of one insured person. ``org_id`` copies the enrollment's office (reviewers' scope);
    ``applicant_id`` is the worker's account (the worker API sees only his own)."""

    __tablename__ = "subsidy_application"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    insured_person_id = Column(Integer, ForeignKey("insured_person.id"), nullable=False, index=True)
    insured_person = relationship("InsuredPerson")
    plan_id = Column(Integer, ForeignKey("protection_plan.id"), nullable=False)
    plan = relationship("ProtectionPlan")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    org = relationship("Org")
    applicant_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False, default="hospital")  # 住院医疗 only from the worker client (S001:L45)
    status = Column(String(16), nullable=False, default=SubsidyStatus.DRAFT, index=True)
    step = Column(Integer, nullable=False, default=0)              # the last completed step (0–3)
    admission_date = Column(Date)
    discharge_date = Column(Date)
    hospital = Column(String(100))
    payee_name = Column(String(50))
    payee_relation = Column(String(20))                            # 本人 / 配偶 / 子女 / 父母 / 其他
    payee_bank = Column(String(100))
    account_type = Column(String(10))
    payee_account = Column(String(30))
    total_cost = Column(Numeric(12, 2))                            # 住院总费用
    # the settlement sheet's payments: the base defaults to total − these four, editable
    fund_paid = Column(Numeric(12, 2))                             # 统筹支付
    critical_paid = Column(Numeric(12, 2))                         # 大病保险支付
    other_paid = Column(Numeric(12, 2))                            # 其他报销
    self_paid_full = Column(Numeric(12, 2))                        # 全自费
    base = Column(Numeric(12, 2))                                  # 补助基数 (政策范围内自付)
    amount = Column(Numeric(12, 2))                                # 补助金额 (C1); NULL = 待定
    rule_version = Column(Integer)
    reject_reason = Column(String(500))                            # 备注 shown to the worker
    pay_fail_reason = Column(String(500))
    open_stay = Column(String(40), unique=True)                    # person:admission while open (R-9, race-proof)
    submitted_at = Column(UTCDateTime)
    status_at = Column(UTCDateTime, default=utcnow, nullable=False)  # entered the current status (queue age)
    paid_at = Column(UTCDateTime)
    paid_on = Column(Date)                                         # the bank's value date (return file)
    payment_reference = Column(String(60))                         # 银行流水号
    payment_batch = Column(String(30))                             # the return-file batch that paid it
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (Index("ix_subsidy_application_org_status", "org_id", "status"),)

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def status_label(self) -> str:
        return SubsidyStatus.label_of(self.status)

    @property
    def person_name(self) -> str:
        return self.insured_person.name if self.insured_person else ""

    @property
    def card_tail(self) -> str:
        return (self.payee_account or "")[-4:]

    @property
    def payee_account_masked(self) -> str:
        return f"尾号{self.card_tail}" if self.payee_account else ""

    @property
    def amount_label(self) -> str:
        return "待定" if self.amount is None else f"{self.amount:,.2f}"

    @property
    def age_label(self) -> str:
        seconds = int((utcnow() - self.status_at).total_seconds())
        days, hours = divmod(seconds // 3600, 24)
        return f"{days}天{hours}小时" if days else f"{hours}小时{seconds % 3600 // 60}分"
