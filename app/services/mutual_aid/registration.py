"""会员单位注册 (S004:L25–32): public self-registration proven by an SMS code → the office's
注册/审核 pool → approval creates the unit handler's account (I-9) / rejection with a reason →
the applicant fixes and registers again with the same USCC (resubmission)."""
from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services import accounts, attachments, audit, outbox, review_flow, verification
from app.services.errors import DomainError, NotFoundError
from app.validators import ValidationError, normalize_text, validate_chinese_name, validate_mobile, validate_uscc
from models.audit import AuditEvent
from models.mutual_aid import REGISTRATION_FLOW, MemberUnit, RegistrationStatus
from models.organizations import Org, OrgLevel, UnitNature
from models.review import ReviewTrail
from models.security import AppUser
from models.verification import CodePurpose

UNIT_HANDLER_ROLE = "会员单位经办人"
CERTIFICATE = "certificate"  # attachment kind: 营业执照 / 登记证书
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
FIELDS = ("name", "uscc", "nature", "address", "org_id", "contact_name", "contact_mobile", "email",
          "invoice_title", "tax_number")


class RegistrationInvalidError(DomainError):
    """Every field error of one registration, collected before raising."""

    code = "registration_invalid"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(errors.values()))


def offices(session: Session) -> list[Org]:
    """The offices a unit may register with (city and county level orgs)."""
    return list(session.scalars(select(Org).where(Org.level.in_([OrgLevel.CITY, OrgLevel.COUNTY])).order_by(Org.path)))


def validate_email(value) -> str:
    email = normalize_text(value)
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise ValidationError("邮箱格式不正确")
    return email


def clean_fields(session: Session, data: dict) -> tuple[dict, dict]:
    """Normalized registration fields and the errors per field (pure but for the office lookup)."""
    errors, out = {}, {}
    out["name"] = normalize_text(data.get("name"))[:120]
    if len(out["name"]) < 2:
        errors["name"] = "请填写单位名称"
    checks = {"uscc": validate_uscc, "contact_mobile": validate_mobile, "email": validate_email,
              "contact_name": validate_chinese_name}
    for key, check in checks.items():
        try:
            out[key] = check(data.get(key))
        except ValidationError as err:
            errors[key] = f"联系人姓名：{err}" if key == "contact_name" else str(err)
    nature = data.get("nature") or UnitNature.ENTERPRISE
    if nature not in {n.value for n in UnitNature}:
        errors["nature"] = "请选择单位性质"
    out["nature"] = nature
    out["address"] = normalize_text(data.get("address"))[:255] or None
    out["invoice_title"] = normalize_text(data.get("invoice_title"))[:120] or out["name"]
    out["tax_number"] = normalize_text(data.get("tax_number")).upper()[:20] or out.get("uscc")
    try:
        org_id = int(data.get("org_id") or 0)
    except (TypeError, ValueError):
        org_id = 0
    if org_id not in {o.id for o in offices(session)}:
        errors["org_id"] = "请选择所属办事处"
    out["org_id"] = org_id
    return out, errors


def send_registration_code(session: Session, phone: str) -> str:
    """Step 1 of the public form: a code to the contact's mobile (limits of ``verification``)."""
    return verification.send_code(session, phone, CodePurpose.REGISTRATION)


def register_unit(session: Session, data: dict, *, code: str, certificates: list[tuple[str, bytes]]) -> MemberUnit:
    """Register (or, after a rejection, resubmit) a member unit: 待审核 in its office's pool. Commits.

    Rules (R-1): every field valid (all errors collected); the USCC not registered already (a
    rejected registration of the same USCC is resubmitted, proven by the mobile on record); the
    contact's mobile proven by the SMS code; at least one certificate picture or PDF.

    Raises:
        RegistrationInvalidError, DomainError (the code, a duplicate USCC, a refused file).
    """
    fields, errors = clean_fields(session, data)
    if not certificates:
        errors["certificates"] = "请上传营业执照或登记证书（至少一张）"
    existing = session.scalar(select(MemberUnit).where(MemberUnit.uscc == fields.get("uscc"))) \
        if "uscc" in fields else None
    if existing is not None and existing.status != RegistrationStatus.REJECTED:
        errors["uscc"] = ("该单位已提交注册，正在审核中" if existing.status == RegistrationStatus.PENDING
                          else "该统一社会信用代码已注册；已入会单位请使用「忘记密码」找回账户")
    if existing is not None and "contact_mobile" in fields and existing.contact_mobile != fields["contact_mobile"] \
            and "uscc" not in errors:
        errors["contact_mobile"] = "重新提交须使用原登记的联系人手机号验证；如需更换手机号请联系办事处"
    if errors:
        raise RegistrationInvalidError(errors)
    verification.check_code(session, fields["contact_mobile"], CodePurpose.REGISTRATION, code)
    if existing is None:
        unit = MemberUnit(**fields, status=RegistrationStatus.PENDING)
        session.add(unit)
        session.flush()
        session.add(ReviewTrail(entity=MemberUnit.__tablename__, entity_id=unit.id, action="register",
                                action_label="提交注册", from_status=None, to_status=RegistrationStatus.PENDING,
                                actor_name=f"申请单位（{fields['contact_name']}）"))
    else:
        unit = existing
        for key, value in fields.items():
            setattr(unit, key, value)
        review_flow.apply_transition(session, MemberUnit, unit.id, "resubmit", flow=REGISTRATION_FLOW, actor=None,
                                     status_labels=RegistrationStatus)
        unit.reject_reason = None
        for old in attachments.attachments_of(session, unit, CERTIFICATE):
            attachments.delete_attachment(session, unit, old.id)
    for file_name, data_bytes in certificates:
        attachments.add_attachment(session, owner=unit, kind=CERTIFICATE, file_name=file_name, data=data_bytes)
    session.commit()
    return unit


def proposed_username(session: Session, unit: MemberUnit) -> str:
    """What approval will create (shown to the office before it approves: polyphonic names)."""
    return accounts.unique_username(session, accounts.pinyin_username(unit.contact_name))


def review_registration(session: Session, unit_id: int, action: str, *, actor, reason: str | None = None) -> MemberUnit:
    """审核 of the 注册/审核 pool and 停用 / 启用. Commits.

    approve: the unit handler's account (username = the contact's name in pinyin, suffixed when
    taken; a one-time password) and one SMS with both; reject: the reason by SMS; disable /
    enable: the unit's accounts can / cannot log in.

    Raises:
        NotFoundError (outside the office's subtree), InvalidTransitionError, ReasonRequiredError.
    """
    unit = review_flow.apply_transition(session, MemberUnit, unit_id, action, flow=REGISTRATION_FLOW, actor=actor,
                                        reason=reason, status_labels=RegistrationStatus,
                                        scope_clause=org_scope_clause(MemberUnit.org_id, actor))
    if action == "approve":
        username = proposed_username(session, unit)
        accounts.provision_account(session, username=username, display_name=unit.contact_name,
                                   role_label=UNIT_HANDLER_ROLE, mobile=unit.contact_mobile, email=unit.email,
                                   member_unit_id=unit.id, sms_template="registration_approved",
                                   sms_params={"unit": unit.name}, related=unit)
        unit.username = username
    elif action == "reject":
        unit.reject_reason = (reason or "").strip()
        outbox.queue_sms(session, unit.contact_mobile, "registration_rejected",
                         {"unit": unit.name, "reason": unit.reject_reason}, related=unit)
    elif action in ("disable", "enable"):
        session.execute(update(AppUser).where(AppUser.member_unit_id == unit.id).values(active=action == "enable"))
        audit.record(session, AuditEvent.ACTION, actor=actor, target_type="member_unit", target_id=unit.id,
                     summary=f"{'启用' if action == 'enable' else '停用'}会员单位账户")
    session.commit()
    return unit


def scoped_unit(session: Session, unit_id: int, user) -> MemberUnit:
    """The member unit in the user's scope (office subtree, or his own unit).

    Raises:
        NotFoundError
    """
    from app.security import scope_clause

    unit = session.scalar(select(MemberUnit).where(MemberUnit.id == unit_id, scope_clause(
        MemberUnit.org_id, user, member_unit_column=MemberUnit.id)))
    if unit is None:
        raise NotFoundError("会员单位不存在或不在您的管辖范围内")
    return unit
