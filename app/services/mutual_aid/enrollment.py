"""参保录入 and 参保初审 (S004:L43–63): a unit's enrollment, its plans and shares, person counts,
staff counts, attachments; submission; the office's 初审 (pass: SMS; return: reason, 继续录入)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.security import scope_clause
from app.services import attachments, audit, numbers, outbox, review_flow
from app.services.errors import DomainError, NotFoundError
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import (
    ENROLLMENT_FLOW,
    Enrollment,
    EnrollmentPlan,
    EnrollmentStatus,
    InsuredPerson,
    MemberUnit,
    PersonStatus,
    PlanKind,
    ProtectionPlan,
    RegistrationStatus,
    RiskGroup,
)

from .plans import money, plans_for_unit

ENROLLMENT_FILE = "enrollment_file"  # attachment kind: 参保附件


def enrollment_scope(user):
    """SQL condition: enrollments the user may see (office subtree, or his own unit's)."""
    return scope_clause(Enrollment.org_id, user, member_unit_column=Enrollment.member_unit_id)


def scoped_enrollment(session: Session, enrollment_id: int, user, *, lock: bool = False) -> Enrollment:
    """The enrollment if it lies in the user's scope.

    Raises:
        NotFoundError: missing or another unit's (404, never a hint that it exists).
    """
    stmt = select(Enrollment).where(Enrollment.id == enrollment_id, enrollment_scope(user))
    enrollment = session.scalar(stmt.with_for_update() if lock else stmt)
    if enrollment is None:
        raise NotFoundError("参保单不存在或不在您的管辖范围内")
    return enrollment


def _editable(enrollment: Enrollment) -> None:
    if not enrollment.editable:
        raise DomainError(f"参保单当前为「{enrollment.status_label}」，不能修改", code="not_editable")


def _today() -> datetime:
    return utcnow().astimezone(DISPLAY_TZ)


# --- C2: payable --------------------------------------------------------------------
def line_amount(shares: int, n_normal: int, n_high: int, price, price_high) -> Decimal:
    """C2 for one plan line: shares × (n_normal × price + n_high × price_high), exact, to the fen."""
    high = Decimal(str(price_high)) if price_high is not None else Decimal(0)
    return money(shares * (n_normal * Decimal(str(price)) + n_high * high))


@dataclass(frozen=True)
class LineFigures:
    line: EnrollmentPlan
    normal: int
    high: int

    @property
    def persons(self) -> int:
        return self.normal + self.high

    @property
    def amount(self) -> Decimal:
        plan = self.line.plan
        return line_amount(self.line.shares, self.normal, self.high, plan.price, plan.price_high)


def line_figures(session: Session, enrollment: Enrollment) -> list[LineFigures]:
    """Per plan line: the active persons by risk group and the amount (C2)."""
    counts = {(line_id, group): n for line_id, group, n in session.execute(
        select(InsuredPerson.enrollment_plan_id, InsuredPerson.risk_group, func.count())
        .where(InsuredPerson.enrollment_id == enrollment.id, InsuredPerson.status == PersonStatus.ACTIVE)
        .group_by(InsuredPerson.enrollment_plan_id, InsuredPerson.risk_group))}
    return [LineFigures(line, counts.get((line.id, RiskGroup.NORMAL), 0), counts.get((line.id, RiskGroup.HIGH), 0))
            for line in enrollment.plans]


def payable_of(session: Session, enrollment: Enrollment) -> Decimal:
    return money(sum((f.amount for f in line_figures(session, enrollment)), Decimal(0)))


# --- the unit's side ------------------------------------------------------------------
def _own_unit(session: Session, actor) -> MemberUnit:
    unit = session.get(MemberUnit, getattr(actor, "member_unit_id", None) or 0)
    if unit is None:
        raise DomainError("您的账户未绑定会员单位，不能录入参保单", code="not_bound")
    if unit.status != RegistrationStatus.APPROVED:
        raise DomainError(f"会员单位状态为「{unit.status_label}」，不能参保", code="unit_inactive")
    return unit


def _check_shares(session: Session, unit: MemberUnit, plan_shares: dict[int, int]) -> dict[int, ProtectionPlan]:
    if not plan_shares:
        raise DomainError("请至少选择一个保障活动并填写份数", code="no_plan")
    offered = {p.id: p for p in plans_for_unit(session, unit, _today().date())}
    chosen = {}
    for plan_id, shares in plan_shares.items():
        plan = offered.get(plan_id)
        if plan is None:
            raise DomainError("所选保障活动不存在或当前不可参保", code="plan_unavailable")
        if not isinstance(shares, int) or not 1 <= shares <= plan.max_shares:
            raise DomainError(f"「{plan.name}」的参保份数须在1至{plan.max_shares}份之间", code="bad_shares")
        chosen[plan_id] = plan
    return chosen


def create_enrollment(session: Session, *, actor, plan_shares: dict[int, int]) -> Enrollment:
    """新建参保录入: the unit chooses plans and shares (1…max per plan). Commits.

    Raises:
        DomainError: not a unit handler of an approved unit, no plan, a plan not offered, bad shares.
    """
    unit = _own_unit(session, actor)
    _check_shares(session, unit, plan_shares)
    enrollment = Enrollment(number=numbers.enrollment_number(session), member_unit_id=unit.id, org_id=unit.org_id,
                            status=EnrollmentStatus.DRAFT, created_by_id=getattr(actor, "id", None))
    session.add(enrollment)
    session.flush()
    for plan_id, shares in sorted(plan_shares.items()):
        session.add(EnrollmentPlan(enrollment_id=enrollment.id, plan_id=plan_id, shares=shares))
    session.commit()
    return enrollment


def set_plans(session: Session, enrollment_id: int, *, actor, plan_shares: dict[int, int]) -> Enrollment:
    """Change plans and shares while editable; a plan taken out loses its person list. Commits.

    Raises:
        NotFoundError, DomainError.
    """
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    _editable(enrollment)
    _check_shares(session, enrollment.member_unit, plan_shares)
    by_plan = {line.plan_id: line for line in enrollment.plans}
    for plan_id, line in by_plan.items():
        if plan_id not in plan_shares:
            enrollment.plans.remove(line)
    for plan_id, shares in plan_shares.items():
        if plan_id in by_plan:
            by_plan[plan_id].shares = shares
        else:
            enrollment.plans.append(EnrollmentPlan(plan_id=plan_id, shares=shares))
    session.commit()
    return enrollment


def set_details(session: Session, enrollment_id: int, *, actor, staff_count, female_staff_count,
                note: str | None) -> Enrollment:
    """在职职工人数, 在职女职工人数 (S004:L56) and 参保说明. Commits.

    Raises:
        NotFoundError, DomainError: not editable, counts missing or negative, female > staff.
    """
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    _editable(enrollment)
    try:
        staff, female = int(staff_count), int(female_staff_count)
    except (TypeError, ValueError):
        raise DomainError("请填写在职职工人数和在职女职工人数（整数）", code="counts_missing") from None
    if staff <= 0 or female < 0 or staff > 10_000_000:
        raise DomainError("在职职工人数须大于0，女职工人数不能为负数", code="counts_invalid")
    if female > staff:
        raise DomainError("在职女职工人数不能超过在职职工人数", code="counts_invalid")
    enrollment.staff_count, enrollment.female_staff_count = staff, female
    enrollment.note = (note or "").strip()[:2000] or None
    session.commit()
    return enrollment


def add_file(session: Session, enrollment_id: int, *, actor, file_name: str, data: bytes):
    """An attachment of the enrollment (picture or PDF, checked) while editable. Commits."""
    enrollment = scoped_enrollment(session, enrollment_id, actor)
    _editable(enrollment)
    attachment = attachments.add_attachment(session, owner=enrollment, kind=ENROLLMENT_FILE, file_name=file_name,
                                            data=data, actor=actor)
    session.commit()
    return attachment


def remove_file(session: Session, enrollment_id: int, attachment_id: int, *, actor) -> None:
    enrollment = scoped_enrollment(session, enrollment_id, actor)
    _editable(enrollment)
    attachments.delete_attachment(session, enrollment, attachment_id)
    session.commit()


def delete_persons(session: Session, enrollment_id: int, person_ids: list[int], *, actor) -> int:
    """人员详情/修改 → 删除 (S004:L54), only while editable. Commits; returns how many."""
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    _editable(enrollment)
    done = session.execute(delete(InsuredPerson).where(InsuredPerson.enrollment_id == enrollment.id,
                                                       InsuredPerson.id.in_(person_ids))).rowcount
    audit.record(session, AuditEvent.DELETE, actor=actor, target_type="enrollment", target_id=enrollment.id,
                 summary=f"删除参保人 {done} 名")
    session.commit()
    return done


def delete_enrollment(session: Session, enrollment_id: int, *, actor) -> None:
    """A 录入中 / 初审退回 enrollment may be deleted with its persons. Commits."""
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    _editable(enrollment)
    for attachment in attachments.attachments_of(session, enrollment):
        attachments.delete_attachment(session, enrollment, attachment.id)
    audit.record(session, AuditEvent.DELETE, actor=actor, target_type="enrollment", target_id=enrollment.id,
                 summary=f"删除参保单 {enrollment.number}")
    session.execute(delete(InsuredPerson).where(InsuredPerson.enrollment_id == enrollment.id))
    session.delete(enrollment)
    session.commit()


def submission_problems(session: Session, enrollment: Enrollment) -> list[str]:
    """What still stops 完成 (submit): persons per plan, counts (R-3), the attachments a plan asks for."""
    problems = []
    figures = line_figures(session, enrollment)
    has_files = bool(attachments.attachments_of(session, enrollment, ENROLLMENT_FILE))
    if not figures:
        problems.append("请至少选择一个保障活动")
    if not enrollment.staff_count:
        problems.append("请填写在职职工人数和在职女职工人数")
    for f in figures:
        plan = f.line.plan
        if f.persons == 0:
            problems.append(f"「{plan.name}」尚未导入参保人员")
        if plan.attachment_required and not has_files:
            problems.append(f"「{plan.name}」需上传参保附件" + (f"（{plan.attachment_note}）" if plan.attachment_note else ""))
        if enrollment.staff_count and f.persons > enrollment.staff_count:
            problems.append(f"「{plan.name}」参保人数 {f.persons} 超过在职职工人数 {enrollment.staff_count}")
        if plan.kind == PlanKind.FEMALE and enrollment.female_staff_count is not None \
                and f.persons > enrollment.female_staff_count:
            problems.append(f"「{plan.name}」参保人数 {f.persons} 超过在职女职工人数 {enrollment.female_staff_count}")
    return problems


def submit_enrollment(session: Session, enrollment_id: int, *, actor) -> Enrollment:
    """完成: 录入中 / 初审退回 → 待初审, payable (C2) fixed. Commits.

    Raises:
        NotFoundError, InvalidTransitionError, DomainError (what is missing, all of it).
    """
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    problems = submission_problems(session, enrollment) if enrollment.editable else []
    if problems:
        raise DomainError("；".join(problems), code="incomplete")
    review_flow.apply_transition(session, Enrollment, enrollment.id, "submit", flow=ENROLLMENT_FLOW, actor=actor,
                                 status_labels=EnrollmentStatus, scope_clause=enrollment_scope(actor))
    enrollment.payable = payable_of(session, enrollment)
    enrollment.submitted_at = utcnow()
    session.commit()
    return enrollment


def review_enrollment(session: Session, enrollment_id: int, action: str, *, actor,
                      reason: str | None = None) -> Enrollment:
    """参保初审: pass (→ 待开票, SMS to the contact, S004:L9) or return with a reason (→ 初审退回,
    SMS; the reason shows on 参保录入). The submitter may not review. Commits.

    Raises:
        NotFoundError, InvalidTransitionError, SelfApprovalError, ReasonRequiredError.
    """
    if action not in ("approve", "return"):
        raise DomainError("不支持的操作")
    enrollment = review_flow.apply_transition(session, Enrollment, enrollment_id, action, flow=ENROLLMENT_FLOW,
                                              actor=actor, reason=reason, status_labels=EnrollmentStatus,
                                              scope_clause=enrollment_scope(actor))
    unit = enrollment.member_unit
    if action == "approve":
        enrollment.return_reason = None
        outbox.queue_sms(session, unit.contact_mobile, "enrollment_approved",
                         {"unit": unit.name, "number": enrollment.number}, related=enrollment)
    else:
        enrollment.return_reason = (reason or "").strip()
        outbox.queue_sms(session, unit.contact_mobile, "enrollment_returned",
                         {"unit": unit.name, "number": enrollment.number, "reason": enrollment.return_reason},
                         related=enrollment)
    session.commit()
    return enrollment
