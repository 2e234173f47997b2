"""人员调入 (S004:L10, R-10, A-29): the office moves an insured person from another unit's effective
enrollment into this unit's effective enrollment of the same plan, keeping his coverage dates
(no gap, no new fee), with a trail on both enrollments."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services import audit
from app.services.errors import DomainError, NotFoundError
from models.audit import AuditEvent
from models.mutual_aid import EnrollmentStatus, InsuredPerson, PersonStatus

from .enrollment import scoped_enrollment


def transfer_in(session: Session, *, person_id: int, to_enrollment_id: int, actor, reason: str) -> InsuredPerson:
    """Move one person (调入) keeping coverage_start/end; the old row becomes 已调出. Commits.

    Raises:
        NotFoundError: person or target outside the actor's scope. DomainError: not effective,
        the same unit, no line of the same plan, already insured there, no reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写调入原因", code="reason_required")
    person = session.scalar(select(InsuredPerson).where(InsuredPerson.id == person_id).with_for_update())
    if person is None:
        raise NotFoundError("参保人不存在")
    source = scoped_enrollment(session, person.enrollment_id, actor)
    target = scoped_enrollment(session, to_enrollment_id, actor, lock=True)
    if person.status != PersonStatus.ACTIVE or source.status != EnrollmentStatus.EFFECTIVE:
        raise DomainError("只能调入已生效参保单中的有效参保人", code="not_effective")
    if target.status != EnrollmentStatus.EFFECTIVE:
        raise DomainError("调入的参保单须已生效", code="target_not_effective")
    if target.member_unit_id == source.member_unit_id:
        raise DomainError("调入单位与原单位相同", code="same_unit")
    line = next((line for line in target.plans if line.plan_id == person.plan_id), None)
    if line is None:
        raise DomainError("调入的参保单没有该人员的保障活动", code="no_plan")
    if session.scalar(select(InsuredPerson.id).where(InsuredPerson.enrollment_plan_id == line.id,
                                                     InsuredPerson.id_number == person.id_number)):
        raise DomainError("该人员已在调入单位的参保名单中", code="already_insured")
    moved = InsuredPerson(enrollment_plan_id=line.id, enrollment_id=target.id, plan_id=person.plan_id,
                          name=person.name, id_type=person.id_type, id_number=person.id_number, mobile=person.mobile,
                          gender=person.gender, birth_date=person.birth_date, risk_group=person.risk_group,
                          social_insurance_type=person.social_insurance_type,
                          social_insurance_no=person.social_insurance_no, status=PersonStatus.ACTIVE,
                          coverage_start=person.coverage_start, coverage_end=person.coverage_end,
                          transferred_from_id=person.id, member_id=person.member_id,
                          remark=f"自「{source.member_unit.name}」调入")
    session.add(moved)
    person.status = PersonStatus.TRANSFERRED_OUT
    session.flush()
    detail = {"person": person.name, "from": source.number, "to": target.number, "reason": reason}
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="enrollment", target_id=source.id,
                 summary=f"人员调出：{person.name} 调至「{target.member_unit.name}」", detail=detail)
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="enrollment", target_id=target.id,
                 summary=f"人员调入：{person.name} 自「{source.member_unit.name}」调入，保障期不变", detail=detail)
    session.commit()
    return moved
