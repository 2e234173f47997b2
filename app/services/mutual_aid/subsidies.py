"""补助申请 (S001:L45–91): the worker's three steps, submission, 初核 with the progressive
calculation (C1), 复核, finance's payment and its failure loop, and the messages of each event.

Worker entry points take the worker's account and the application's number and see only his own
applications (another's answers 404); back-office entry points take the actor and are scoped to
the office subtree. Every status change goes through ``review_flow.apply_transition``."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services import attachments, audit, numbers, review_flow
from app.services import messages as inbox
from app.services.errors import DomainError, NotFoundError
from app.validators import ValidationError, normalize_text, validate_bank_card
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.messages import MessageCategory
from models.mutual_aid import Enrollment, PlanKind, WorkerBinding
from models.mutual_aid.subsidies import (
    ID_BACK,
    ID_FRONT,
    RECEIPT,
    RELATION_PROOF,
    SINGLE_REVIEW_FLOW,
    SUBSIDY_FLOW,
    AccountType,
    SubsidyApplication,
    SubsidyStatus,
)
from models.organizations import Org

from . import workers
from .plans import current_rule, default_base, money, progressive_amount

MAX_RECEIPTS = 20
RELATIONS = ("本人", "配偶", "子女", "父母", "其他")


def subsidy_flow() -> dict:
    """初核 + 复核 (A-3), or one stage when ``SUBSIDY_SECOND_REVIEW`` is off."""
    two = current_app.config.get("SUBSIDY_SECOND_REVIEW", True) if has_app_context() else True
    return SUBSIDY_FLOW if two else SINGLE_REVIEW_FLOW


def today() -> date:
    return utcnow().astimezone(DISPLAY_TZ).date()


# --- the worker side -----------------------------------------------------------------
def create_application(session: Session, user, *, insured_person_id: int | None = None) -> SubsidyApplication:
    """申请住院补助金: a 草稿 with its ZY… number (S001:L62 shows the number on a draft). Commits.

    Raises:
        NotFoundError: not bound, or no effective 住院医疗 record of his.
    """
    binding = workers.binding_of(session, user)
    person = workers.own_person(session, binding, insured_person_id, kind=PlanKind.HOSPITAL)
    enrollment = session.get(Enrollment, person.enrollment_id)
    org_code = session.scalar(select(Org.code).where(Org.id == enrollment.org_id))
    application = SubsidyApplication(
        number=numbers.subsidy_number(session, numbers.number_letter(org_code)), insured_person_id=person.id,
        plan_id=person.plan_id, org_id=enrollment.org_id, applicant_id=user.id, status=SubsidyStatus.DRAFT)
    session.add(application)
    session.flush()
    audit.record(session, AuditEvent.CREATE, actor=user, target_type=application.__tablename__,
                 target_id=application.id, summary=f"补助申请 {application.number}")
    session.commit()
    return application


def own_application(session: Session, user, number: str, *, lock: bool = False) -> SubsidyApplication:
    """The worker's application ``number``.

    Raises:
        NotFoundError: no such number among his applications.
    """
    stmt = select(SubsidyApplication).where(SubsidyApplication.number == str(number)[:20],
                                            SubsidyApplication.applicant_id == getattr(user, "id", None))
    found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFoundError("补助申请不存在")
    return found


def my_applications(session: Session, user) -> list[SubsidyApplication]:
    return list(session.scalars(select(SubsidyApplication).where(SubsidyApplication.applicant_id == user.id)
                                .order_by(SubsidyApplication.id.desc())))


def _editable(application: SubsidyApplication) -> None:
    if application.status != SubsidyStatus.DRAFT:
        raise DomainError(f"当前状态为「{application.status_label}」，不能修改", code="invalid_transition")


def _files(files) -> list[tuple[str, bytes]]:
    return [(name, data) for name, data in (files or []) if data]


def _replace(session, application, kind, file, user) -> None:
    for old in attachments.attachments_of(session, application, kind):
        attachments.delete_attachment(session, application, old.id)
    attachments.add_attachment(session, owner=application, kind=kind, file_name=file[0], data=file[1], actor=user,
                               accept=(attachments.IMAGES,))


def save_id_photos(session: Session, user, number: str, *, front=None, back=None) -> SubsidyApplication:
    """第1步: the insured's ID photos, front and back (pictures only; a new one replaces the old). Commits.

    Raises:
        NotFoundError; DomainError: not a draft, a photo missing or refused.
    """
    application = own_application(session, user, number, lock=True)
    _editable(application)
    for kind, file, label in ((ID_FRONT, front, "身份证正面"), (ID_BACK, back, "身份证反面")):
        if file and file[1]:
            _replace(session, application, kind, file, user)
        elif not attachments.attachments_of(session, application, kind):
            raise DomainError(f"请上传{label}照片", code="bad_request", field=kind)
    application.step = max(application.step, 1)
    session.commit()
    return application


def _date(value, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(normalize_text(value))
    except (TypeError, ValueError):
        raise DomainError(f"{label}格式不正确（YYYY-MM-DD）", code="bad_request") from None


def save_stay(session: Session, user, number: str, *, admission, discharge, hospital, receipts=()
              ) -> SubsidyApplication:
    """第2步: the hospital stay and its receipts (R-9). Commits.

    Rules: admission ≤ discharge ≤ today (Beijing); admission within the person's coverage; ≥1
    receipt; one open application per person and stay (admission date), under any concurrency.

    Raises:
        NotFoundError; DomainError ``duplicate_stay`` and the rules above.
    """
    application = own_application(session, user, number, lock=True)
    _editable(application)
    if application.step < 1:
        raise DomainError("请先完成第1步：上传证件照片", code="step_missing")
    admission, discharge = _date(admission, "入院日期"), _date(discharge, "出院日期")
    hospital = normalize_text(hospital)[:100]
    if not hospital:
        raise DomainError("请填写就诊医院", code="bad_request", field="hospital")
    if admission > discharge:
        raise DomainError("入院日期不能晚于出院日期", code="bad_request", field="admission_date")
    if discharge > today():
        raise DomainError("出院日期不能晚于今天", code="bad_request", field="discharge_date")
    person = application.insured_person
    enrollment = session.get(Enrollment, person.enrollment_id)
    start = person.coverage_start or enrollment.coverage_start
    end = person.coverage_end or enrollment.coverage_end
    if start is None or not start <= admission <= (end or admission):
        raise DomainError(f"入院日期不在保障期内（{start or '—'} 至 {end or '—'}）", code="not_covered",
                          field="admission_date")
    files = _files(receipts)
    existing = attachments.attachments_of(session, application, RECEIPT)
    if len(existing) + len(files) > MAX_RECEIPTS:
        raise DomainError(f"单据最多上传{MAX_RECEIPTS}张", code="bad_request")
    if not existing and not files:
        raise DomainError("请上传至少一张住院费用单据", code="bad_request", field="receipts")
    application.admission_date, application.discharge_date, application.hospital = admission, discharge, hospital
    application.open_stay = f"{person.id}:{admission.isoformat()}"
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        session.rollback()
        raise DomainError("该次住院（相同入院日期）已有未办结的补助申请", code="duplicate_stay") from None
    for name, data in files:
        attachments.add_attachment(session, owner=application, kind=RECEIPT, file_name=name, data=data, actor=user)
    application.step = max(application.step, 2)
    session.commit()
    return application


def _payee(session, application, person_name: str, fields: dict, proof) -> None:
    name = normalize_text(fields.get("payee_name")) or person_name
    relation = normalize_text(fields.get("payee_relation")) or ("本人" if name == person_name else "")
    if relation not in RELATIONS:
        raise DomainError(f"与参保人关系须为：{'、'.join(RELATIONS)}", code="bad_request", field="payee_relation")
    if (name == person_name) != (relation == "本人"):
        raise DomainError("收款人为参保人本人时关系须为「本人」，否则请选择实际关系", code="bad_request",
                          field="payee_relation")
    bank = normalize_text(fields.get("payee_bank"))[:100]
    if not bank:
        raise DomainError("请填写开户银行", code="bad_request", field="payee_bank")
    account_type = normalize_text(fields.get("account_type")) or AccountType.CARD.value
    if account_type not in AccountType._value2member_map_:
        raise DomainError("账户类型须为银行卡或存折/其他账户", code="bad_request", field="account_type")
    account = normalize_text(fields.get("payee_account")).replace(" ", "")
    if account_type == AccountType.CARD:
        try:
            account = validate_bank_card(account)
        except ValidationError as err:
            raise DomainError(str(err), code="bad_request", field="payee_account") from None
    elif not (account.isdigit() and 6 <= len(account) <= 30):
        raise DomainError("账号应为6至30位数字", code="bad_request", field="payee_account")
    if proof and proof[1]:
        attachments.add_attachment(session, owner=application, kind=RELATION_PROOF, file_name=proof[0],
                                   data=proof[1])
    if relation != "本人" and not attachments.attachments_of(session, application, RELATION_PROOF):
        raise DomainError("收款人不是参保人本人，请上传关系证明材料", code="bad_request", field="relation_proof")
    application.payee_name, application.payee_relation, application.payee_bank = name[:50], relation, bank
    application.account_type, application.payee_account = account_type, account


def save_account(session: Session, user, number: str, fields: dict, *, proof=None) -> SubsidyApplication:
    """第3步: 补助金收款账户 (holder, bank, card Luhn-checked; relation proof when the holder is not the
    insured, A-5). Commits.

    Raises:
        NotFoundError; DomainError.
    """
    application = own_application(session, user, number, lock=True)
    _editable(application)
    if application.step < 2:
        raise DomainError("请先完成第2步：住院信息及单据", code="step_missing")
    _payee(session, application, application.person_name, fields, proof)
    application.step = 3
    session.commit()
    return application


def submit_application(session: Session, user, number: str) -> SubsidyApplication:
    """提交审核: 草稿 → 待初核, the three steps complete. Twice at once: one succeeds. Commits.

    Raises:
        NotFoundError; InvalidTransitionError (already submitted); DomainError ``step_missing``.
    """
    application = own_application(session, user, number, lock=True)
    if application.status == SubsidyStatus.DRAFT:
        for kind, label in ((ID_FRONT, "身份证正面照片"), (ID_BACK, "身份证反面照片"), (RECEIPT, "住院费用单据")):
            if not attachments.attachments_of(session, application, kind):
                raise DomainError(f"请先上传{label}", code="step_missing")
        if application.step < 3:
            raise DomainError("请先完成三个步骤再提交", code="step_missing")
    review_flow.apply_transition(session, SubsidyApplication, application.id, "submit", flow=subsidy_flow(),
                                 actor=user, status_labels=SubsidyStatus,
                                 scope_clause=SubsidyApplication.applicant_id == user.id)
    application.submitted_at = application.status_at = utcnow()
    application.reject_reason = None
    session.commit()
    return application


def correct_payee(session: Session, user, number: str, fields: dict, *, proof=None) -> SubsidyApplication:
    """打款失败 → the worker corrects the account → 审核通过 (back to finance, not to review, S001:L73). Commits.

    Raises:
        NotFoundError; InvalidTransitionError (not 打款失败); DomainError (account rules of step 3).
    """
    application = own_application(session, user, number, lock=True)
    review_flow.apply_transition(session, SubsidyApplication, application.id, "correct_payee", flow=subsidy_flow(),
                                 actor=user, status_labels=SubsidyStatus,
                                 scope_clause=SubsidyApplication.applicant_id == user.id)
    _payee(session, application, application.person_name, fields, proof)
    application.status_at, application.pay_fail_reason = utcnow(), None
    session.commit()
    return application


def delete_application(session: Session, user, number: str) -> None:
    """删除 a 草稿 (S001:L69) with its files. Commits.

    Raises:
        NotFoundError; DomainError: not a draft.
    """
    application = own_application(session, user, number, lock=True)
    if application.status != SubsidyStatus.DRAFT:
        raise DomainError(f"当前状态为「{application.status_label}」，不能删除", code="invalid_transition")
    for attachment in attachments.attachments_of(session, application):
        attachments.delete_attachment(session, application, attachment.id)
    audit.record(session, AuditEvent.DELETE, actor=user, target_type=application.__tablename__,
                 target_id=application.id, summary=f"删除补助申请 {application.number}")
    session.delete(application)
    session.commit()


# --- the back office -------------------------------------------------------------------
def _decimal(value, label: str) -> Decimal:
    try:
        number = Decimal(normalize_text(value).replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(f"请填写{label}（数字）", code="bad_request") from None
    if not number.is_finite() or number < 0 or number > Decimal("99999999.99"):
        raise DomainError(f"{label}须为0至99,999,999.99之间的金额", code="bad_request")
    return money(number)


def calculate(session: Session, application: SubsidyApplication, base) -> tuple[Decimal, int]:
    """C1 on the plan's benefit rule in force on the admission date (tiers are data), then the
    annual cap minus what the person already received that year.

    Raises:
        DomainError: no progressive rule for the plan.
    """
    rule = current_rule(session, application.plan_id, application.admission_date or today())
    if rule is None or rule.rule.get("type") != "progressive":
        raise DomainError("该保障活动未设置累进制给付规则，无法计算补助金额", code="no_rule")
    amount = progressive_amount(rule.rule["tiers"], base)
    cap = rule.rule.get("annual_cap")
    if cap is not None:
        year = (application.admission_date or today()).year
        received = session.scalar(select(func.coalesce(func.sum(SubsidyApplication.amount), 0)).where(
            SubsidyApplication.insured_person_id == application.insured_person_id,
            SubsidyApplication.id != application.id,
            SubsidyApplication.status.in_((SubsidyStatus.APPROVED, SubsidyStatus.PAY_FAILED, SubsidyStatus.DONE)),
            SubsidyApplication.admission_date >= date(year, 1, 1),
            SubsidyApplication.admission_date <= date(year, 12, 31)))
        amount = max(Decimal(0), min(amount, money(Decimal(cap) - Decimal(received))))
    return amount, rule.version


def _phone_of(session, application) -> str | None:
    return session.scalar(select(WorkerBinding.phone).where(WorkerBinding.user_id == application.applicant_id))


def review_application(session: Session, application_id: int, action: str, *, actor, reason: str | None = None,
                       total_cost=None, base=None, sheet: dict | None = None) -> SubsidyApplication:
    """初核 / 复核 / 打款 steps of one application in the actor's scope. Commits.

    - approve_first: the total and the settlement sheet's payments (``sheet``: fund_paid, critical_paid,
      other_paid, self_paid_full, each blank = 0) entered; the base as entered, blank = the default
      formula (A-2, ``default_base``); amount = C1 > 0 (0.00 after rounding counts as 0);
    - reject (初核驳回): back to 草稿 with the reason; 站内信 + SMS;
    - approve_second: a reviewer other than the 初核 one; return: back to 待初核 (not shown to the worker);
    - pay: 办结, 站内信 + SMS with the card tail and the amount; pay_fail: 打款失败 with the reason, 站内信 + SMS.

    Raises:
        NotFoundError (out of scope), InvalidTransitionError, SelfApprovalError, ReasonRequiredError,
        DomainError (amount 0, inputs).
    """
    application = _step(session, application_id, action, actor=actor, reason=reason, total_cost=total_cost,
                        base=base, sheet=sheet)
    session.commit()
    return application


def mark_paid(session: Session, application_id: int, actor, *, paid_on: date | None = None,
              reference: str | None = None, batch: str | None = None) -> SubsidyApplication:
    """审核通过 → 办结 from the bank's return file (or one by one), with the same 站内信 + SMS as the
    one-by-one 已打款 step (no commit: payments.py commits one return file at a time).

    Raises:
        NotFoundError (out of scope), InvalidTransitionError (not 审核通过).
    """
    application = _step(session, application_id, "pay", actor=actor)
    application.paid_on = paid_on or today()
    application.payment_reference = (reference or "").strip()[:60] or application.payment_reference
    application.payment_batch = batch or application.payment_batch
    return application


def mark_failed(session: Session, application_id: int, actor, *, reason: str) -> SubsidyApplication:
    """审核通过 → 打款失败 with the bank's reason and the worker's 站内信 + SMS (no commit).

    Raises:
        NotFoundError, InvalidTransitionError, ReasonRequiredError.
    """
    return _step(session, application_id, "pay_fail", actor=actor, reason=reason)


SHEET_FIELDS = {"fund_paid": "统筹支付", "critical_paid": "大病保险支付", "other_paid": "其他报销",
                "self_paid_full": "全自费"}


def _sheet(total_cost: Decimal, sheet: dict | None) -> dict:
    paid = {k: _decimal(v, label) if normalize_text(v) else Decimal("0.00")
            for k, label in SHEET_FIELDS.items() for v in [(sheet or {}).get(k)]}
    if sum(paid.values()) > total_cost:
        raise DomainError("统筹支付、大病保险、其他报销与全自费之和不能大于住院总费用", code="bad_request")
    return paid


def _step(session: Session, application_id: int, action: str, *, actor, reason: str | None = None,
          total_cost=None, base=None, sheet: dict | None = None) -> SubsidyApplication:
    """One step of ``review_application`` and its messages, without the commit."""
    flow = subsidy_flow()
    if action == "approve_first":
        total_cost = _decimal(total_cost, "住院总费用")
        paid = _sheet(total_cost, sheet)
        base = _decimal(base, "补助基数") if normalize_text(base) else default_base(total_cost, *paid.values())
        if base > total_cost:
            raise DomainError("补助基数不能大于住院总费用", code="bad_request")
    application = review_flow.apply_transition(
        session, SubsidyApplication, application_id, action, flow=flow, actor=actor, reason=reason,
        status_labels=SubsidyStatus, scope_clause=org_scope_clause(SubsidyApplication.org_id, actor))
    application.status_at = utcnow()
    name, reason = application.person_name, (reason or "").strip()
    if action == "approve_first":
        amount, version = calculate(session, application, base)
        if amount <= 0:
            raise DomainError(f"按累进制计算的补助金额为 {amount:.2f} 元，金额须大于0，不能审核通过", code="zero_amount")
        application.total_cost, application.base, application.amount, application.rule_version = (
            total_cost, base, amount, version)
        for key, value in paid.items():
            setattr(application, key, value)
    elif action == "reject":
        application.reject_reason = reason[:500]
        inbox.notify(session, recipient_id=application.applicant_id, category=MessageCategory.SUBSIDY,
                     title="补助申请被驳回",
                     body=f"您提交的“{name}”的住院医疗补助申请被驳回。驳回理由是：{reason}。请参考驳回理由重新提交申请。",
                     related=application, phone=_phone_of(session, application), sms_template="subsidy_rejected",
                     sms_params={"name": name, "reason": reason})
    elif action == "pay":
        application.paid_at, application.open_stay = utcnow(), None
        application.paid_on, application.pay_fail_reason = today(), None
        amount = f"{application.amount:.2f}"
        inbox.notify(session, recipient_id=application.applicant_id, category=MessageCategory.SUBSIDY,
                     title="申请已成功办结",
                     body=f"您提交的“{name}”的住院医疗补助申请已成功办结，补助金已打款至尾号{application.card_tail}的银行卡，"
                          f"请注意查收银行到账信息。补助金额：{amount}",
                     related=application, phone=_phone_of(session, application), sms_template="subsidy_done",
                     sms_params={"name": name, "tail": application.card_tail, "amount": amount})
    elif action == "pay_fail":
        application.pay_fail_reason = reason[:500]
        inbox.notify(session, recipient_id=application.applicant_id, category=MessageCategory.SUBSIDY,
                     title="补助金打款失败",
                     body=f"您提交的“{name}”的住院医疗补助申请打款失败，请修正信息。失败原因：{reason}",
                     related=application, phone=_phone_of(session, application), sms_template="subsidy_pay_failed",
                     sms_params={"name": name})
    return application


def progress(session: Session, application: SubsidyApplication) -> list[dict]:
    """The worker's progress bar (申请补助 → 补助审核 → 审核通过 → 办结) with the time each was reached."""
    from models.mutual_aid.subsidies import PROGRESS

    trail = review_flow.trail_of(session, SubsidyApplication, application.id)
    steps, current = [], next(i for i, (_l, states) in enumerate(PROGRESS) if application.status in states)
    for index, (label, states) in enumerate(PROGRESS):
        reached = application.created_at if index == 0 else next(
            (t.at for t in reversed(trail) if t.to_status in states), None)
        steps.append({"label": label, "done": index <= current, "current": index == current,
                      "at": reached.isoformat() if reached and index <= current else None})
    return steps
