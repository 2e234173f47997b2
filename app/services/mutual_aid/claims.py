"""申领案件 (S004:L126–154): acceptance, materials, the 费用录入 work pool, fee entry and 申领计算,
submission, 初审 and 复核, the payment loop and 结案.

Rules:
  - acceptance offers only the kinds of this person's **effective** enrollments whose coverage holds
    the incident date (C6), in the actor's scope; a case per (person, ticked kind) (R-7, A-10);
  - hospitalization kinds start in 材料上传 and move to 费用录入 when every required material type
    has a file (S004:L132, L139);
  - one handler per case (I-8, ``app/services/work_pool.py``), and only he enters fees (R-8);
  - the amount comes from the plan's benefit rule version in force on the incident date
    (``benefits.calculate``); it is recomputed at submission, stale results are refused and an
    amount of 0.00 cannot be submitted (S004:L150);
  - 初审 by someone other than the handler, 复核 by someone other than the 初审 reviewer;
  - deletion only before the first submission, with a second confirmation (S004:L135).
Every status change goes through ``review_flow.apply_transition`` (trail + audit). Services commit.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.security import org_in_scope, scope_clause
from app.services import attachments, audit, numbers, review_flow, work_pool
from app.services.errors import DomainError, NotFoundError, SelfApprovalError
from app.validators import ValidationError, normalize_text, validate_bank_card
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import (
    CLAIM_FLOW,
    Claim,
    ClaimKind,
    ClaimStatus,
    Enrollment,
    EnrollmentPlan,
    EnrollmentStatus,
    InsuredPerson,
    PayeeAccountType,
    PersonStatus,
    ProtectionPlan,
    SettlementSheet,
)
from models.review import ReviewTrail

from . import benefits
from .plans import current_rule, money

# The default kinds (S004 names); material types per kind are data on ClaimKind.
DEFAULT_KINDS = [
    ("disease_hospital", "疾病住院", "hospital", True, ["身份证明", "住院结算单", "出院小结"], True),
    ("accident_hospital", "意外住院", "accident", True, ["身份证明", "住院结算单", "意外事故证明"], True),
    ("critical_illness", "重大疾病", "critical", False, [], False),
    ("accident_disability", "意外伤残", "accident", False, [], False),
    ("accident_death", "意外身故", "accident", False, [], False),
    ("female_illness", "女职工特疾", "female", False, [], False),
]
# Amounts of these cases count against caps and cumulation (submitted or later, not declined).
COUNTED = (ClaimStatus.FIRST_REVIEW, ClaimStatus.SECOND_REVIEW, ClaimStatus.PENDING_PAYMENT,
           ClaimStatus.PAYMENT_FAILED, ClaimStatus.CLOSED)
OPEN = (ClaimStatus.MATERIALS, ClaimStatus.FEE_ENTRY, ClaimStatus.FIRST_REVIEW, ClaimStatus.SECOND_REVIEW,
        ClaimStatus.PENDING_PAYMENT, ClaimStatus.PAYMENT_FAILED)
RELATIONS = ("本人", "配偶", "子女", "父母", "其他")


def claim_scope(user):
    """SQL condition: claims the user may see (office subtree, or his own unit's)."""
    return scope_clause(Claim.org_id, user, member_unit_column=Claim.member_unit_id)


def scoped_claim(session: Session, claim_id: int, user, *, lock: bool = False) -> Claim:
    """The claim if it lies in the user's scope.

    Raises:
        NotFoundError
    """
    stmt = select(Claim).where(Claim.id == claim_id, claim_scope(user))
    claim = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if claim is None:
        raise NotFoundError("案件不存在或不在您的管辖范围内")
    return claim


def ensure_claim_kinds(session: Session) -> list[ClaimKind]:
    """The default 申领类型 (idempotent; no commit)."""
    have = {k.code: k for k in session.scalars(select(ClaimKind))}
    for code, name, plan_kind, materials, types, sheet in DEFAULT_KINDS:
        if code not in have:
            have[code] = ClaimKind(code=code, name=name, plan_kind=plan_kind, needs_materials_first=materials,
                                   material_types=types, needs_settlement_sheet=sheet, formula_key=code)
            session.add(have[code])
    session.flush()
    return list(have.values())


def kinds_of_plan(session: Session, plan: ProtectionPlan) -> list[ClaimKind]:
    """The kinds a plan offers: those named in ``plan.claim_kinds`` (name or code), else its plan kind's."""
    kinds = list(session.scalars(select(ClaimKind).where(ClaimKind.enabled.is_(True)).order_by(ClaimKind.id)))
    named = set(plan.claim_kinds or [])
    if named:
        return [k for k in kinds if k.name in named or k.code in named]
    return [k for k in kinds if k.plan_kind == plan.kind]


def _coverage(person: InsuredPerson, enrollment: Enrollment) -> tuple[date | None, date | None]:
    return person.coverage_start or enrollment.coverage_start, person.coverage_end or enrollment.coverage_end


def _today() -> date:
    return utcnow().astimezone(DISPLAY_TZ).date()


def _clean_id_number(value) -> str:
    number = normalize_text(value).replace(" ", "").upper()
    if not number:
        raise DomainError("请输入出险人的证件号码", field="id_number")
    if len(number) > 32 or not number.isalnum():
        raise DomainError("证件号码格式不正确", field="id_number")
    return number


def claimable(session: Session, id_number, actor, *, incident_date: date | None = None) -> list[dict]:
    """申领受理 查询: the claimable (person, kind) options of one ID number — effective enrollments
    in the actor's scope whose coverage holds the incident date (default today, Beijing).

    Raises:
        DomainError: a malformed ID number, or nothing claimable (in Chinese).
    """
    number = _clean_id_number(id_number)
    on = incident_date or _today()
    rows = session.execute(
        select(InsuredPerson, Enrollment, EnrollmentPlan)
        .join(Enrollment, Enrollment.id == InsuredPerson.enrollment_id)
        .join(EnrollmentPlan, EnrollmentPlan.id == InsuredPerson.enrollment_plan_id)
        .where(InsuredPerson.id_number == number, InsuredPerson.status == PersonStatus.ACTIVE,
               Enrollment.status == EnrollmentStatus.EFFECTIVE,
               scope_clause(Enrollment.org_id, actor, member_unit_column=Enrollment.member_unit_id))
        .order_by(InsuredPerson.id)).all()
    options = []
    for person, enrollment, line in rows:
        start, end = _coverage(person, enrollment)
        if not start or not end or not start <= on <= end:
            continue
        open_kinds = set(session.scalars(select(Claim.claim_kind_id).where(
            Claim.insured_person_id == person.id, Claim.status.in_(OPEN))))
        for kind in kinds_of_plan(session, line.plan):
            options.append({"person_id": person.id, "kind_id": kind.id, "name": person.name,
                            "id_number_masked": person.id_number_masked, "plan": line.plan.name,
                            "unit": enrollment.member_unit.name, "shares": line.shares, "kind": kind.name,
                            "coverage": f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}",
                            "materials_first": kind.needs_materials_first, "open": kind.id in open_kinds})
    if not options:
        raise DomainError(f"未查询到该证件号码在{on:%Y-%m-%d}有效的参保记录，无可受理的申领类型", field="id_number")
    return options


def _trail(session: Session, claim: Claim, action: str, label: str, actor, *, from_status=None) -> None:
    session.add(ReviewTrail(entity=Claim.__tablename__, entity_id=claim.id, action=action, action_label=label,
                            from_status=from_status, to_status=claim.status, actor_id=getattr(actor, "id", None),
                            actor_name=getattr(actor, "username", None) or audit.SYSTEM))


def accept_claims(session: Session, selections, actor, *, incident_date: date | None = None) -> list[Claim]:
    """确认受理: one case per ticked (person id, kind id); several persons in one confirmation. Each
    selection is re-checked against ``claimable`` (scope, effective enrollment, coverage). Commits.

    Raises:
        DomainError: nothing ticked, an option no longer claimable, or an open case of that kind.
    """
    picks = []
    for item in selections or []:
        try:
            picks.append((int(item[0]), int(item[1])))
        except (TypeError, ValueError, IndexError):
            raise DomainError("确认受理列表不正确，请重新查询") from None
    picks = list(dict.fromkeys(picks))
    if not picks:
        raise DomainError("请先查询并勾选要受理的申领类型")
    claims, groups = [], {}
    now = utcnow()
    for person_id, kind_id in picks:
        person = session.get(InsuredPerson, person_id)
        if person is None:
            raise DomainError("确认受理列表不正确，请重新查询")
        options = {(o["person_id"], o["kind_id"]): o for o in
                   claimable(session, person.id_number, actor, incident_date=incident_date)}
        option = options.get((person_id, kind_id))
        if option is None:
            raise DomainError(f"「{person.name}」不能受理所选申领类型，请重新查询")
        if option["open"]:
            raise DomainError(f"「{person.name}」已有未结案的「{option['kind']}」案件，不能重复受理")
        kind = session.get(ClaimKind, kind_id)
        enrollment = session.get(Enrollment, person.enrollment_id)
        claim = Claim(number=numbers.claim_number(session, now), insured_person_id=person.id,
                      enrollment_plan_id=person.enrollment_plan_id, claim_kind_id=kind.id, org_id=enrollment.org_id,
                      member_unit_id=enrollment.member_unit_id,
                      status=ClaimStatus.MATERIALS if kind.needs_materials_first else ClaimStatus.FEE_ENTRY,
                      accepted_by_id=getattr(actor, "id", None), accepted_at=now, status_at=now,
                      incident_date=incident_date)
        claim.group_ref = groups.setdefault(person.id, claim.number)
        session.add(claim)
        session.flush()
        _trail(session, claim, "accept", "确认受理", actor)
        audit.record(session, AuditEvent.ACTION, actor=actor, target_type="claim", target_id=claim.id,
                     summary=f"确认受理 {claim.number}（{person.name}，{kind.name}）")
        claims.append(claim)
    session.commit()
    return claims


def _move(session, claim_id, action, actor, *, reason=None) -> Claim:
    claim = review_flow.apply_transition(session, Claim, claim_id, action, flow=CLAIM_FLOW, actor=actor,
                                         reason=reason, status_labels=ClaimStatus, scope_clause=claim_scope(actor))
    claim.status_at = utcnow()
    return claim


# --- 材料上传 ---------------------------------------------------------------------------
def missing_materials(session: Session, claim: Claim) -> list[str]:
    have = {a.kind for a in attachments.attachments_of(session, claim)}
    return [t for t in (claim.claim_kind.material_types or []) if t not in have]


def upload_material(session: Session, claim_id: int, actor, *, material_type: str, file_name: str,
                    data: bytes) -> Claim:
    """Attach one file of a required type; the case moves to 费用录入 once every type has a file. Commits.

    Raises:
        NotFoundError, DomainError (wrong type, wrong state, refused file).
    """
    claim = scoped_claim(session, claim_id, actor, lock=True)
    if claim.status not in (ClaimStatus.MATERIALS, ClaimStatus.FEE_ENTRY):
        raise DomainError(f"当前状态为「{claim.status_label}」，不能上传材料")
    types = claim.claim_kind.material_types or []
    if material_type not in types:
        raise DomainError("请选择材料类型" if not material_type else f"「{material_type}」不是该申领类型的材料")
    attachments.add_attachment(session, owner=claim, kind=material_type, file_name=file_name, data=data,
                               actor=actor)
    if claim.status == ClaimStatus.MATERIALS and not missing_materials(session, claim):
        _move(session, claim.id, "complete_materials", actor)
    session.commit()
    return claim


def delete_claim(session: Session, claim_id: int, actor, *, confirmed: bool) -> Claim:
    """删除 (soft, trail kept): only in 材料上传 / 费用录入 and never after a submission, with a second
    confirmation. Commits.

    Raises:
        NotFoundError, DomainError, InvalidTransitionError.
    """
    if not confirmed:
        raise DomainError("删除案件须再次确认")
    claim = scoped_claim(session, claim_id, actor, lock=True)
    if claim.submitted_at is not None:
        raise DomainError("案件已提交过，不能删除")
    claim = _move(session, claim_id, "delete", actor)
    claim.deleted_at, claim.deleted_by_id, claim.handler_id = utcnow(), getattr(actor, "id", None), None
    session.commit()
    return claim


# --- the 费用录入 work pool (I-8) ---------------------------------------------------------
def take_claims(session: Session, claim_ids, actor) -> list[int]:
    """获取: the free 费用录入 cases among ``claim_ids`` become the actor's. Commits.

    Returns the ids taken (one taken by someone else first is left out)."""
    taken = work_pool.take(session, Claim, claim_ids, actor, pool_status=ClaimStatus.FEE_ENTRY,
                           scope_clause=claim_scope(actor))
    session.commit()
    return taken


def release_claims(session: Session, claim_ids, actor, *, supervisor: bool = False) -> list[int]:
    """释放: back to 待处理 (one's own cases; a supervisor anyone's in scope). Commits."""
    released = work_pool.release(session, Claim, claim_ids, actor, pool_status=ClaimStatus.FEE_ENTRY,
                                 scope_clause=claim_scope(actor), any_handler=supervisor)
    session.commit()
    return released


def reassign_claims(session: Session, claim_ids, to_user, actor) -> list[int]:
    """改派 (supervisor): the 费用录入 cases go to ``to_user``, who must work in the actor's scope. Commits.

    Raises:
        DomainError: the handler is unknown or outside the scope.
    """
    if to_user is None or not to_user.active or not org_in_scope(session, to_user.org_id, actor):
        raise DomainError("请选择本辖区内的经办人")
    moved = work_pool.reassign(session, Claim, claim_ids, to_user, pool_status=ClaimStatus.FEE_ENTRY,
                               scope_clause=claim_scope(actor))
    for claim_id in moved:
        audit.record(session, AuditEvent.ACTION, actor=actor, target_type="claim", target_id=claim_id,
                     summary=f"改派给 {to_user.username}")
    session.commit()
    return moved


def pool(session: Session, actor, *, mine: bool, limit: int = 200) -> list[Claim]:
    """待处理 (no handler) or 处理中 (the actor's) 费用录入 cases, oldest first."""
    stmt = select(Claim).where(Claim.status == ClaimStatus.FEE_ENTRY, claim_scope(actor))
    stmt = stmt.where(Claim.handler_id == actor.id) if mine else stmt.where(Claim.handler_id.is_(None))
    return list(session.scalars(stmt.order_by(Claim.id).limit(limit)))


def _my_case(session: Session, claim_id: int, actor, *, status=ClaimStatus.FEE_ENTRY) -> Claim:
    claim = scoped_claim(session, claim_id, actor, lock=True)
    if claim.status != status:
        raise DomainError(f"当前状态为「{claim.status_label}」，不能录入费用")
    if claim.handler_id != getattr(actor, "id", None):
        raise DomainError("该案件不在您的处理中工作池，请先获取")
    return claim


# --- 费用录入 --------------------------------------------------------------------------
def _date(value, what: str, *, required: bool = False) -> date | None:
    if isinstance(value, date):
        return value
    text = normalize_text(value)
    if not text:
        if required:
            raise DomainError(f"请填写{what}")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{what}格式不正确（如 2025-03-01）") from None


def _money(value, what: str, *, required: bool = False) -> Decimal | None:
    text = normalize_text(value).replace(",", "")
    if not text:
        if required:
            raise DomainError(f"请填写{what}")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"{what}须为金额（如 1234.56）") from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
        raise DomainError(f"{what}须为不小于0的金额")
    return money(number)


def check_payee(fields: dict) -> dict:
    """收款信息: holder, relation, bank, account. Cards are Luhn-checked; passbooks (A-9) are not and
    carry a warning for the reviewer.

    Raises:
        DomainError
    """
    name = normalize_text(fields.get("payee_name"))[:50]
    relation = normalize_text(fields.get("payee_relation")) or "本人"
    if relation not in RELATIONS:
        raise DomainError("与出险人关系不正确", field="payee_relation")
    kind = normalize_text(fields.get("payee_account_type")) or PayeeAccountType.CARD
    if kind not in set(PayeeAccountType):
        raise DomainError("账户类型不正确", field="payee_account_type")
    account = normalize_text(fields.get("payee_account")).replace(" ", "")
    warning = None
    if account:
        if kind == PayeeAccountType.CARD:
            try:
                account = validate_bank_card(account)
            except ValidationError as err:
                raise DomainError(str(err), field="payee_account") from None
        else:
            if not account.isdigit() or not 6 <= len(account) <= 32:
                raise DomainError("存折/其他账户应为6至32位数字", field="payee_account")
            warning = "存折/其他账户未做卡号校验，请审核时核对"
    return {"payee_name": name or None, "payee_relation": relation, "payee_account_type": kind,
            "payee_bank": normalize_text(fields.get("payee_bank"))[:60] or None,
            "payee_branch": normalize_text(fields.get("payee_branch"))[:100] or None,
            "payee_account": account or None, "payee_warning": warning}


def save_fee_entry(session: Session, claim_id: int, actor, fields: dict) -> Claim:
    """Save the incident and the payee of one's own case (the calculation must then be redone). Commits.

    Raises:
        NotFoundError, DomainError.
    """
    claim = _my_case(session, claim_id, actor)
    claim.incident_date = _date(fields.get("incident_date"), "出险日期")
    claim.incident_type = normalize_text(fields.get("incident_type"))[:30] or None
    claim.incident_place = normalize_text(fields.get("incident_place"))[:100] or None
    claim.incident_description = normalize_text(fields.get("incident_description"))[:2000] or None
    grade = normalize_text(fields.get("disability_grade"))
    if grade and (not grade.isdigit() or not 1 <= int(grade) <= 10):
        raise DomainError("伤残等级须为1至10级", field="disability_grade")
    claim.disability_grade = int(grade) if grade else None
    payee = check_payee(fields)
    if not payee["payee_account"] and claim.payee_account:
        # the screen shows the saved account masked and an empty box: blank keeps it
        payee.update(payee_account=claim.payee_account, payee_account_type=claim.payee_account_type,
                     payee_warning=claim.payee_warning)
    for key, value in payee.items():
        setattr(claim, key, value)
    session.commit()
    return claim


def add_sheet(session: Session, claim_id: int, actor, fields: dict) -> SettlementSheet:
    """结算单 of a hospitalization case: hospital, stay, total and what was reimbursed. Commits.

    Raises:
        NotFoundError, DomainError.
    """
    claim = _my_case(session, claim_id, actor)
    if not claim.claim_kind.needs_settlement_sheet:
        raise DomainError("该申领类型不需要录入结算单")
    hospital = normalize_text(fields.get("hospital"))[:100]
    if not hospital:
        raise DomainError("请填写医院名称", field="hospital")
    admission = _date(fields.get("admission_date"), "入院日期", required=True)
    discharge = _date(fields.get("discharge_date"), "出院日期", required=True)
    if discharge < admission:
        raise DomainError("出院日期不能早于入院日期", field="discharge_date")
    if discharge > _today():
        raise DomainError("出院日期不能晚于今天", field="discharge_date")
    sheet = SettlementSheet(claim_id=claim.id, hospital=hospital, admission_date=admission, discharge_date=discharge,
                            total_cost=_money(fields.get("total_cost"), "住院总费用", required=True),
                            fund_paid=_money(fields.get("fund_paid"), "统筹支付") or Decimal("0.00"),
                            critical_paid=_money(fields.get("critical_paid"), "大病保险支付") or Decimal("0.00"),
                            other_paid=_money(fields.get("other_paid"), "其他报销") or Decimal("0.00"),
                            self_paid_full=_money(fields.get("self_paid_full"), "全自费") or Decimal("0.00"),
                            policy_self_paid=_money(fields.get("policy_self_paid"), "政策范围内自付"),
                            receipt_number=normalize_text(fields.get("receipt_number"))[:60] or None)
    paid = sheet.fund_paid + sheet.critical_paid + sheet.other_paid + sheet.self_paid_full
    if paid > sheet.total_cost:
        raise DomainError("统筹、大病、其他报销与全自费之和不能超过住院总费用")
    if sheet.policy_self_paid is not None and sheet.policy_self_paid > sheet.total_cost:
        raise DomainError("政策范围内自付不能超过住院总费用", field="policy_self_paid")
    session.add(sheet)
    session.commit()
    return sheet


def delete_sheet(session: Session, claim_id: int, sheet_id: int, actor) -> None:
    claim = _my_case(session, claim_id, actor)
    sheet = session.get(SettlementSheet, sheet_id)
    if sheet is None or sheet.claim_id != claim.id:
        raise NotFoundError("结算单不存在")
    session.delete(sheet)
    session.commit()


# --- 申领计算 --------------------------------------------------------------------------
def incident_day(claim: Claim) -> date | None:
    """The day coverage is checked on (C6): hospitalization kinds the first admission, else the incident."""
    if claim.claim_kind.needs_settlement_sheet and claim.sheets:
        return min(s.admission_date for s in claim.sheets)
    return claim.incident_date


def facts_of(session: Session, claim: Claim) -> benefits.ClaimFacts:
    """The calculation's inputs from the database: shares, sheets, what the person already had this period."""
    kind = claim.claim_kind
    others = select(Claim).where(Claim.insured_person_id == claim.insured_person_id, Claim.id != claim.id,
                                 Claim.status.in_(COUNTED), Claim.declined.is_(False))
    paid_before = Decimal(0)
    kind_paid, days_before = Decimal(0), 0
    for other in session.scalars(others):
        amount = other.amount or Decimal(0)
        paid_before += amount
        if other.claim_kind_id == kind.id:
            kind_paid += amount
            days_before += int((other.breakdown or {}).get("days") or 0)
    return benefits.ClaimFacts(
        kind=kind.formula_key or kind.code, kind_label=kind.name, shares=claim.enrollment_plan.shares,
        days=sum(s.days for s in claim.sheets), base=sum((Decimal(s.base) for s in claim.sheets), Decimal(0)),
        grade=claim.disability_grade, paid_before=paid_before, kind_paid_before=kind_paid, days_before=days_before)


def _inputs_hash(facts: benefits.ClaimFacts, rule_id: int) -> str:
    payload = json.dumps({**facts.__dict__, "rule": rule_id}, default=str, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _required(claim: Claim) -> None:
    """R-8: the fields each kind needs, and coverage of the incident day (C6)."""
    missing = []
    if not claim.incident_date:
        missing.append("出险日期")
    if claim.claim_kind.needs_settlement_sheet and not claim.sheets:
        missing.append("结算单")
    for attr, label in (("payee_name", "收款人"), ("payee_bank", "开户银行"), ("payee_account", "收款账号")):
        if not getattr(claim, attr):
            missing.append(label)
    if missing:
        raise DomainError(f"请先填写：{'、'.join(missing)}")
    day = incident_day(claim)
    person = claim.insured_person
    start, end = _coverage(person, claim.enrollment_plan.enrollment)
    if not start or not end or not start <= day <= end:
        what = "入院日期" if claim.claim_kind.needs_settlement_sheet else "出险日期"
        raise DomainError(f"{what} {day:%Y-%m-%d} 不在保障期（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）内"
                          if start and end else "该参保人没有保障期，不能申领")


def _compute(session: Session, claim: Claim) -> tuple[benefits.Benefit, object, str]:
    _required(claim)
    rule = current_rule(session, claim.enrollment_plan.plan_id, incident_day(claim))
    if rule is None:
        raise DomainError("该保障活动在出险日尚无生效的给付规则，无法计算")
    facts = facts_of(session, claim)
    return benefits.calculate(rule.rule, facts), rule, _inputs_hash(facts, rule.id)


def calculate_claim(session: Session, claim_id: int, actor) -> Claim:
    """申领计算: store the amount, breakdown and rule version of one's own case. Commits.

    Raises:
        NotFoundError, DomainError (missing fields, outside coverage, no rule).
    """
    claim = _my_case(session, claim_id, actor)
    result, rule, digest = _compute(session, claim)
    claim.amount, claim.rule_id, claim.rule_version, claim.calc_inputs = result.amount, rule.id, rule.version, digest
    claim.breakdown = {**result.breakdown, "days": result.days, "rule_version": rule.version}
    session.commit()
    return claim


def submit_claim(session: Session, claim_id: int, actor) -> Claim:
    """申领提交 → 申领初审: required fields, recomputed amount equal to the stored one, amount > 0.
    Commits.

    Raises:
        NotFoundError, DomainError, InvalidTransitionError.
    """
    claim = _my_case(session, claim_id, actor)
    if claim.amount is None:
        raise DomainError("请先点击【申领计算】")
    result, _rule, digest = _compute(session, claim)
    if digest != claim.calc_inputs or result.amount != claim.amount:
        raise DomainError("案件信息已变更，计算结果已过期，请重新点击【申领计算】")
    if result.amount <= 0:
        raise DomainError("互助金额为0，不能提交（可作不予给付处理）")
    claim = _move(session, claim.id, "submit", actor)
    claim.submitted_at = claim.submitted_at or utcnow()
    claim.return_reason = None
    session.commit()
    return claim


# --- 初审 / 复核 ------------------------------------------------------------------------
def review_claim(session: Session, claim_id: int, action: str, actor, *, reason: str | None = None) -> Claim:
    """申领初审 and 复核: approve, return (reason) or decline (不予给付, reason). 初审 by someone other
    than the handler; 复核 by someone other than the 初审 reviewer. Commits.

    Raises:
        NotFoundError, InvalidTransitionError, SelfApprovalError, ReasonRequiredError.
    """
    if action not in ("approve", "return", "decline"):
        raise DomainError("不支持的操作")
    claim = scoped_claim(session, claim_id, actor, lock=True)
    me = getattr(actor, "id", None)
    if claim.status == ClaimStatus.FIRST_REVIEW and me is not None and me == claim.handler_id:
        raise SelfApprovalError("不能初审自己录入的案件")
    if claim.status == ClaimStatus.SECOND_REVIEW and me is not None and me == claim.first_reviewer_id:
        raise SelfApprovalError("初审与复核不能为同一人")
    was = claim.status
    claim = _move(session, claim_id, action, actor, reason=reason)
    reason = (reason or "").strip() or None
    if action == "approve" and was == ClaimStatus.FIRST_REVIEW:
        claim.first_reviewer_id = me
    elif action == "return":
        claim.return_reason = reason
    elif action == "decline":
        claim.declined, claim.decline_reason, claim.amount, claim.closed_at = True, reason, Decimal("0.00"), utcnow()
    session.commit()
    return claim


def queue(session: Session, actor, status: str, *, limit: int = 200) -> list[dict]:
    """A queue (初审, 复核, 待打款, 打款失败) in scope, oldest first, with the age of each item in hours."""
    now = utcnow()
    rows = session.scalars(select(Claim).where(Claim.status == status, claim_scope(actor))
                           .order_by(Claim.status_at, Claim.id).limit(limit)).all()
    return [{"claim": c, "age_hours": int((now - c.status_at).total_seconds() // 3600)} for c in rows]


def queue_counts(session: Session, actor) -> dict[str, int]:
    return dict(session.execute(select(Claim.status, func.count(Claim.id)).where(claim_scope(actor))
                                .group_by(Claim.status)).all())


# --- 打款 (called by payments.py) ----------------------------------------------------------
def mark_paid(session: Session, claim_id: int, actor, *, paid_on: date, reference: str | None,
              batch: str | None = None) -> Claim:
    """待打款 → 结案 (no commit: payments.py commits, one return file at a time)."""
    claim = _move(session, claim_id, "pay", actor)
    claim.paid_on, claim.payment_reference = paid_on, (reference or "")[:60] or None
    claim.payment_batch = batch or claim.payment_batch
    claim.payment_failure_reason, claim.closed_at = None, utcnow()
    return claim


def mark_failed(session: Session, claim_id: int, actor, *, reason: str) -> Claim:
    """待打款 → 打款失败 with the bank's reason (no commit)."""
    claim = _move(session, claim_id, "fail", actor, reason=reason)
    claim.payment_failure_reason = (reason or "").strip()[:300]
    return claim


def correct_payee(session: Session, claim_id: int, actor, fields: dict) -> Claim:
    """打款失败 → 待打款: the handler corrects the payee (the card re-validated). Commits.

    Raises:
        NotFoundError, DomainError.
    """
    claim = scoped_claim(session, claim_id, actor, lock=True)
    if claim.status != ClaimStatus.PAYMENT_FAILED:
        raise DomainError(f"当前状态为「{claim.status_label}」，不能修正收款信息")
    if claim.handler_id != getattr(actor, "id", None):
        raise DomainError("只有该案件的经办人可以修正收款信息")
    payee = check_payee(fields)
    if not payee["payee_account"] or not payee["payee_name"] or not payee["payee_bank"]:
        raise DomainError("请填写收款人、开户银行和收款账号")
    for key, value in payee.items():
        setattr(claim, key, value)
    _move(session, claim.id, "correct_payee", actor)
    session.commit()
    return claim


def closed_query(actor, *, number: str | None = None, name: str | None = None):
    """申领查询: closed cases in scope (a SELECT; the view pages and exports it)."""
    stmt = select(Claim).join(InsuredPerson, InsuredPerson.id == Claim.insured_person_id).where(
        Claim.status == ClaimStatus.CLOSED, claim_scope(actor))
    if number:
        stmt = stmt.where(or_(Claim.number == number.strip(), Claim.group_ref == number.strip()))
    if name:
        stmt = stmt.where(InsuredPerson.name == name.strip())
    return stmt.order_by(Claim.closed_at.desc(), Claim.id.desc())
