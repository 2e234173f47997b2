"""职工绑定 and 参保记录 (S001:L41; R-12, A-28): a worker's account bound to his insured identity.

Binding needs name + ID type + ID number matching an insured person, and the phone on record
proven by an SMS code; the code is spent first (one try per code: 1 a minute, 10 a day per
phone), so the exact refusal 「未查询到该职工信息…」 cannot be used to probe identities for free."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services import verification
from app.services.errors import DomainError, NotFoundError
from app.validators import ValidationError, normalize_text, parse_resident_id
from models.members import IdType
from models.mutual_aid import (
    Enrollment,
    EnrollmentPlan,
    EnrollmentStatus,
    InsuredPerson,
    PersonStatus,
    ProtectionPlan,
    WorkerBinding,
)
from models.verification import CodePurpose

NOT_FOUND = "未查询到该职工信息，请确认所填内容再重试"
PHONE_MISMATCH = "手机号与登记信息不一致，请联系所在单位更新"


def send_bind_code(session: Session, phone) -> str:
    """获取 验证码 for binding (1 a minute, 10 a day). Commits."""
    return verification.send_code(session, phone, CodePurpose.BINDING)


def _id_type(value) -> str:
    labels = {t.label: t.value for t in IdType}
    value = normalize_text(value)
    value = labels.get(value, value) or IdType.RESIDENT.value
    try:
        return IdType(value).value
    except ValueError:
        raise DomainError("证件类型不正确", code="bad_request", field="id_type") from None


def clean_id(id_type: str, id_number) -> str:
    number = normalize_text(id_number).replace(" ", "").upper()
    if not number:
        raise DomainError("请输入证件号码", code="bad_request", field="id_number")
    if id_type == IdType.RESIDENT:
        try:
            return parse_resident_id(number).number
        except ValidationError as err:
            raise DomainError(str(err), code="bad_request", field="id_number") from None
    if len(number) > 32:
        raise DomainError("证件号码过长", code="bad_request", field="id_number")
    return number


def bind_worker(session: Session, user, *, name, id_type, id_number, phone, code) -> WorkerBinding:
    """Bind ``user`` to the insured person named by name + ID type + ID number. Commits.

    Rules: the SMS code of ``phone`` is valid (and spent); an active insured person matches all
    three; ``phone`` is his mobile on record; the account and the person are bound once each.

    Raises:
        CodeError; DomainError ``worker_not_found`` (exactly NOT_FOUND), ``phone_mismatch``,
        ``already_bound``.
    """
    if session.scalar(select(WorkerBinding.id).where(WorkerBinding.user_id == user.id)):
        raise DomainError("该账户已绑定职工信息", code="already_bound")
    name = normalize_text(name)
    id_type = _id_type(id_type)
    if not name:
        raise DomainError("请输入您的姓名", code="bad_request", field="name")
    number = normalize_text(id_number).replace(" ", "").upper()[:40]
    verification.check_code(session, phone, CodePurpose.BINDING, code)
    session.commit()  # the code is spent whatever the outcome
    phone = verification._phone(phone)
    persons = session.scalars(select(InsuredPerson).where(
        InsuredPerson.id_number == number, InsuredPerson.id_type == id_type, InsuredPerson.name == name,
        InsuredPerson.status == PersonStatus.ACTIVE)).all()
    if not persons:
        raise DomainError(NOT_FOUND, code="worker_not_found")
    if phone not in {p.mobile for p in persons}:
        raise DomainError(PHONE_MISMATCH, code="phone_mismatch")
    if session.scalar(select(WorkerBinding.id).where(WorkerBinding.id_number == number)):
        raise DomainError("该职工信息已绑定其他账户，请联系所在单位", code="already_bound")
    binding = WorkerBinding(user_id=user.id, name=name, id_type=id_type, id_number=number, phone=phone)
    session.add(binding)
    for person in persons:
        enrollment = session.get(Enrollment, person.enrollment_id)
        if enrollment.status == EnrollmentStatus.EFFECTIVE:
            _record_message(session, user.id, person, enrollment)
    session.commit()
    return binding


def _record_message(session: Session, user_id: int, person: InsuredPerson, enrollment: Enrollment) -> None:
    from app.services import messages
    from models.messages import MessageCategory

    plan = session.get(ProtectionPlan, person.plan_id)
    start = person.coverage_start or enrollment.coverage_start
    end = person.coverage_end or enrollment.coverage_end
    period = f"，保障期 {start} 至 {end}" if start and end else ""
    messages.notify(session, recipient_id=user_id, category=MessageCategory.ENROLLMENT, title="新增参保记录",
                    body=f"您已参加「{plan.name}」（{enrollment.member_unit.name}）{period}。", related=person)


def notify_enrolled(session: Session, enrollment: Enrollment) -> int:
    """参保记录 (§3.1.7, proposal): a 站内信 to each bound worker enrolled by this (now effective)
    enrollment; no SMS. No commit. Returns the number of messages."""
    rows = session.execute(select(InsuredPerson, WorkerBinding.user_id)
                           .join(WorkerBinding, WorkerBinding.id_number == InsuredPerson.id_number)
                           .where(InsuredPerson.enrollment_id == enrollment.id,
                                  InsuredPerson.status == PersonStatus.ACTIVE)).all()
    for person, user_id in rows:
        _record_message(session, user_id, person, enrollment)
    return len(rows)


def binding_of(session: Session, user) -> WorkerBinding:
    """The user's binding.

    Raises:
        NotFoundError ``not_bound``.
    """
    binding = session.scalar(select(WorkerBinding).where(WorkerBinding.user_id == getattr(user, "id", None)))
    if binding is None:
        raise NotFoundError("请先绑定职工信息", code="not_bound")
    return binding


def records(session: Session, binding: WorkerBinding) -> list[tuple]:
    """参保记录: (person, enrollment line, plan, enrollment) of the bound ID number, newest first."""
    return list(session.execute(
        select(InsuredPerson, EnrollmentPlan, ProtectionPlan, Enrollment)
        .join(EnrollmentPlan, EnrollmentPlan.id == InsuredPerson.enrollment_plan_id)
        .join(ProtectionPlan, ProtectionPlan.id == InsuredPerson.plan_id)
        .join(Enrollment, Enrollment.id == InsuredPerson.enrollment_id)
        .where(InsuredPerson.id_number == binding.id_number)
        .order_by(InsuredPerson.id.desc())).all())


def own_person(session: Session, binding: WorkerBinding, person_id: int | None, *, kind: str | None = None
               ) -> InsuredPerson:
    """One of the worker's active insured records in an effective enrollment (by default the newest
    of plan kind ``kind``).

    Raises:
        NotFoundError: not his, or none.
    """
    stmt = (select(InsuredPerson).join(Enrollment, Enrollment.id == InsuredPerson.enrollment_id)
            .join(ProtectionPlan, ProtectionPlan.id == InsuredPerson.plan_id)
            .where(InsuredPerson.id_number == binding.id_number, InsuredPerson.status == PersonStatus.ACTIVE,
                   Enrollment.status == EnrollmentStatus.EFFECTIVE))
    if person_id is not None:
        stmt = stmt.where(InsuredPerson.id == person_id)
    if kind:
        stmt = stmt.where(ProtectionPlan.kind == kind)
    person = session.scalars(stmt.order_by(InsuredPerson.id.desc()).limit(1)).first()
    if person is None:
        raise NotFoundError("未找到有效的参保记录" if person_id is None else "参保记录不存在", code="not_found")
    return person


def worker_org_ids(session: Session, binding: WorkerBinding) -> list[int]:
    """The offices of the worker's enrollments (his org scope for notices)."""
    return list(session.scalars(select(Enrollment.org_id).join(InsuredPerson, InsuredPerson.enrollment_id ==
                                                               Enrollment.id)
                                .where(InsuredPerson.id_number == binding.id_number).distinct()))
