"""个人信息变更 (S001:L93–143; R-11): a worker asks to change his insured identity; 初核 → 复核 →
办结 applies the change to every record of that identity, one audit row per changed field.

Rules: name and ID number never both in one request; no new request while one is unfinished
(草稿 included: a rejected request is resubmitted or deleted); ≥1 field actually changed (before vs
after, not the submitted values); a new ID number valid and nobody else's; a resident ID fixes the
birth date and gender; ≥1 evidence file."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.masking import mask_id_number, mask_phone
from app.security import org_scope_clause
from app.services import attachments, audit, numbers, review_flow
from app.services import messages as inbox
from app.services.errors import DomainError, NotFoundError
from app.services.verification import _phone
from app.validators import ValidationError, normalize_text, parse_resident_id, validate_chinese_name
from models.audit import AuditEvent
from models.base import utcnow
from models.members import Gender, IdType, Member
from models.messages import MessageCategory
from models.mutual_aid import Enrollment, InsuredPerson, PersonStatus, WorkerBinding
from models.mutual_aid.info_changes import EVIDENCE, FIELDS, INFO_CHANGE_FLOW, InfoChangeRequest, InfoChangeStatus

from . import workers

MAX_EVIDENCE = 10
UNFINISHED_MESSAGE = "已存在未办结的变更记录，不允许重新申请"
PERSON_COLUMNS = {"phone": "mobile"}  # request field → InsuredPerson column (others share the name)


def identity_of(session: Session, binding: WorkerBinding) -> tuple[dict, InsuredPerson]:
    """变更前: the worker's current identity from his newest active insured record."""
    person = session.scalars(select(InsuredPerson).where(InsuredPerson.id_number == binding.id_number,
                                                         InsuredPerson.status == PersonStatus.ACTIVE)
                             .order_by(InsuredPerson.id.desc()).limit(1)).first()
    if person is None:
        raise NotFoundError("未找到参保记录", code="not_found")
    before = {field: getattr(person, PERSON_COLUMNS.get(field, field)) for field in FIELDS}
    before["birth_date"] = before["birth_date"].isoformat() if before["birth_date"] else None
    before["phone"] = before["phone"] or binding.phone
    return {k: (v if v not in ("",) else None) for k, v in before.items()}, person


def _clean_after(session: Session, before: dict, changes: dict) -> dict:
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise DomainError("不能变更的字段：" + "、".join(sorted(unknown)), code="bad_request")
    after = dict(before)
    for field, value in changes.items():
        after[field] = normalize_text(value) or None
    try:
        if after["name"] != before["name"]:
            after["name"] = validate_chinese_name(after["name"])
        if after["phone"] != before["phone"]:
            after["phone"] = _phone(after["phone"])
    except ValidationError as err:
        raise DomainError(str(err), code="bad_request") from None
    if after["id_type"] not in IdType._value2member_map_:
        labels = {t.label: t.value for t in IdType}
        if after["id_type"] not in labels:
            raise DomainError("证件类型不正确", code="bad_request", field="id_type")
        after["id_type"] = labels[after["id_type"]]
    if after["gender"] not in (None, *Gender._value2member_map_):
        labels = {g.label: g.value for g in Gender}
        if after["gender"] not in labels:
            raise DomainError("性别须为男或女", code="bad_request", field="gender")
        after["gender"] = labels[after["gender"]]
    if after["birth_date"]:
        try:
            after["birth_date"] = date.fromisoformat(after["birth_date"]).isoformat()
        except ValueError:
            raise DomainError("出生日期格式不正确（YYYY-MM-DD）", code="bad_request", field="birth_date") from None
    if after["id_number"]:
        after["id_number"] = after["id_number"].replace(" ", "").upper()[:32]
    if not after["id_number"]:
        raise DomainError("请填写证件号码", code="bad_request", field="id_number")
    if after["id_type"] == IdType.RESIDENT:
        try:
            parsed = parse_resident_id(after["id_number"])
        except ValidationError as err:
            raise DomainError(str(err), code="bad_request", field="id_number") from None
        derived = {"birth_date": parsed.birth_date.isoformat(), "gender": parsed.gender}
        for field, value in derived.items():
            if field in changes and after[field] not in (None, value):
                raise DomainError(f"居民身份证的{FIELDS[field]}由证件号码确定，与所填不一致", code="bad_request",
                                  field=field)
            after[field] = value
    changed = [k for k in FIELDS if after.get(k) != before.get(k)]
    if not changed:
        raise DomainError("未修改任何信息", code="bad_request")
    if "name" in changed and "id_number" in changed:
        raise DomainError("不允许同时修改姓名和证件号码", code="name_and_id")
    if "id_number" in changed:
        taken = session.scalar(select(InsuredPerson.id).where(InsuredPerson.id_number == after["id_number"]).limit(1))
        taken = taken or session.scalar(select(WorkerBinding.id).where(WorkerBinding.id_number == after["id_number"]))
        if taken:
            raise DomainError("该证件号码已登记为其他职工，不能变更为此号码", code="id_taken", field="id_number")
    return after


def _evidence(session, request_row, files, user) -> None:
    files = [(n, d) for n, d in (files or []) if d]
    existing = attachments.attachments_of(session, request_row, EVIDENCE)
    if len(existing) + len(files) > MAX_EVIDENCE:
        raise DomainError(f"变更凭证最多上传{MAX_EVIDENCE}个", code="bad_request")
    for name, data in files:
        attachments.add_attachment(session, owner=request_row, kind=EVIDENCE, file_name=name, data=data, actor=user)
    if not existing and not files:
        raise DomainError("请上传变更凭证", code="bad_request", field="evidence")


def create_change(session: Session, user, changes: dict, *, evidence=(), reason: str | None = None
                  ) -> InfoChangeRequest:
    """我要变更信息 → 确认提交: a BG… request, straight to 待初核. One unfinished at a time, under any
    concurrency (``open_owner`` is unique). Commits.

    Raises:
        NotFoundError (not bound); DomainError ``unfinished_exists``, ``name_and_id``, ``id_taken``…
    """
    binding = workers.binding_of(session, user)
    if session.scalar(select(InfoChangeRequest.id).where(InfoChangeRequest.open_owner == user.id)):
        raise DomainError(UNFINISHED_MESSAGE, code="unfinished_exists")
    before, person = identity_of(session, binding)
    after = _clean_after(session, before, changes or {})
    row = InfoChangeRequest(number=numbers.change_request_number(session), applicant_id=user.id,
                            org_id=session.scalar(select(Enrollment.org_id).where(Enrollment.id == person.enrollment_id)),
                            id_number=binding.id_number, before=before, after=after,
                            reason=normalize_text(reason)[:500] or None, open_owner=user.id)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        session.rollback()
        raise DomainError(UNFINISHED_MESSAGE, code="unfinished_exists") from None
    _evidence(session, row, evidence, user)
    review_flow.apply_transition(session, InfoChangeRequest, row.id, "submit", flow=INFO_CHANGE_FLOW, actor=user,
                                 status_labels=InfoChangeStatus)
    row.status_at = utcnow()
    session.commit()
    return row


def own_change(session: Session, user, number: str, *, lock: bool = False) -> InfoChangeRequest:
    """Raises: NotFoundError — not one of the worker's requests."""
    stmt = select(InfoChangeRequest).where(InfoChangeRequest.number == str(number)[:24],
                                           InfoChangeRequest.applicant_id == getattr(user, "id", None))
    found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFoundError("变更申请不存在")
    return found


def my_changes(session: Session, user) -> list[InfoChangeRequest]:
    return list(session.scalars(select(InfoChangeRequest).where(InfoChangeRequest.applicant_id == user.id)
                                .order_by(InfoChangeRequest.id.desc())))


def resubmit_change(session: Session, user, number: str, changes: dict | None = None, *, evidence=()
                    ) -> InfoChangeRequest:
    """草稿 (rejected) → 待初核, optionally with corrected values (checked again against 变更前). Commits.

    Raises:
        NotFoundError; InvalidTransitionError; DomainError (the rules of create_change).
    """
    row = own_change(session, user, number, lock=True)
    if row.status == InfoChangeStatus.DRAFT:
        if changes:
            row.after = _clean_after(session, row.before, {**{k: row.after.get(k) for k in row.changed_fields},
                                                          **changes})
        _evidence(session, row, evidence, user)
    review_flow.apply_transition(session, InfoChangeRequest, row.id, "submit", flow=INFO_CHANGE_FLOW, actor=user,
                                 status_labels=InfoChangeStatus,
                                 scope_clause=InfoChangeRequest.applicant_id == user.id)
    row.status_at, row.reject_reason = utcnow(), None
    session.commit()
    return row


def delete_change(session: Session, user, number: str) -> None:
    """删除 a 草稿 request (S001:L135): the worker may then file a new one. Commits.

    Raises:
        NotFoundError; DomainError: not a draft.
    """
    row = own_change(session, user, number, lock=True)
    if row.status != InfoChangeStatus.DRAFT:
        raise DomainError(f"当前状态为「{row.status_label}」，不能删除", code="invalid_transition")
    for attachment in attachments.attachments_of(session, row):
        attachments.delete_attachment(session, row, attachment.id)
    audit.record(session, AuditEvent.DELETE, actor=user, target_type=row.__tablename__, target_id=row.id,
                 summary=f"删除变更申请 {row.number}")
    session.delete(row)
    session.commit()


def _shown(field: str, value) -> str:
    if value in (None, ""):
        return "（空）"
    if field == "id_number":
        return mask_id_number(value)
    if field == "phone":
        return mask_phone(value)
    return str(value)


def _apply(session: Session, row: InfoChangeRequest, actor) -> None:
    """The change on every record of the identity (insured persons, the member, the binding), one
    audit row per field."""
    changed = row.changed_fields
    persons = session.scalars(select(InsuredPerson).where(InsuredPerson.id_number == row.id_number)).all()
    member = session.scalar(select(Member).where(or_(Member.id_number == row.id_number,
                                                     Member.id.in_([p.member_id for p in persons if p.member_id]))))
    binding = session.scalar(select(WorkerBinding).where(WorkerBinding.user_id == row.applicant_id))
    for field in changed:
        value = row.after.get(field)
        stored = date.fromisoformat(value) if field == "birth_date" and value else value
        for person in persons:
            setattr(person, PERSON_COLUMNS.get(field, field), stored)
        if member is not None and hasattr(Member, field):
            setattr(member, field, stored)
        if binding is not None and field in ("name", "id_type", "id_number", "phone"):
            setattr(binding, field, value)
        audit.record(session, AuditEvent.UPDATE, actor=actor, target_type="insured_person",
                     target_id=persons[0].id if persons else None,
                     summary=f"个人信息变更 {row.number}：{FIELDS[field]} {_shown(field, row.before.get(field))} → "
                             f"{_shown(field, value)}",
                     detail={"request": row.number, "field": field, "persons": [p.id for p in persons],
                             "member_id": getattr(member, "id", None)})


def review_change(session: Session, request_id: int, action: str, *, actor, reason: str | None = None
                  ) -> InfoChangeRequest:
    """初核 / 复核 of one request in the actor's scope. 复核通过 applies the change in the same
    transaction; rejections go back to 草稿 with a 站内信 + SMS. Commits.

    Raises:
        NotFoundError, InvalidTransitionError, SelfApprovalError, ReasonRequiredError.
    """
    row = review_flow.apply_transition(session, InfoChangeRequest, request_id, action, flow=INFO_CHANGE_FLOW,
                                       actor=actor, reason=reason, status_labels=InfoChangeStatus,
                                       scope_clause=org_scope_clause(InfoChangeRequest.org_id, actor))
    row.status_at = utcnow()
    reason = (reason or "").strip()
    phone = session.scalar(select(WorkerBinding.phone).where(WorkerBinding.user_id == row.applicant_id))
    if action in ("reject", "reject_second"):
        row.reject_reason = reason[:500]
        inbox.notify(session, recipient_id=row.applicant_id, category=MessageCategory.INFO_CHANGE,
                     title="您有1条变更信息申请单被驳回",
                     body=f"您的个人信息变更申请{row.number}被驳回，驳回理由是：{reason}。请修正后重新提交，或删除后重新申请。",
                     related=row, phone=phone, sms_template="info_change_rejected", sms_params={"reason": reason})
    elif action == "approve_second":
        _apply(session, row, actor)
        row.done_at, row.open_owner = utcnow(), None
        inbox.notify(session, recipient_id=row.applicant_id, category=MessageCategory.INFO_CHANGE,
                     title="个人信息变更已办结", body=f"您的个人信息变更申请{row.number}已审核办结（{row.changed_label}）。",
                     related=row, phone=row.after.get("phone") or phone, sms_template="info_change_done",
                     sms_params={"number": row.number})
    session.commit()
    return row


def progress(session: Session, row: InfoChangeRequest) -> list[dict]:
    """审核进度: each step taken, with its time and (for rejections) the reason."""
    return [{"step": t.action_label, "status": InfoChangeStatus.label_of(t.to_status), "at": t.at.isoformat(),
             "reason": t.reason} for t in review_flow.trail_of(session, InfoChangeRequest, row.id)]
