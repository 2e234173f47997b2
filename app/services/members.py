"""会员 rules: validation and derivation, member numbers, certification review,
transfers between base unions, audited reveal of personal data."""
from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.masking import mask_phone
from app.security import org_in_scope, org_scope_clause
from app.services import audit, review_flow
from app.services.errors import DomainError, MemberInvalidError, NotFoundError
from app.validators import (
    ValidationError,
    normalize_citizen_card,
    normalize_text,
    parse_resident_id,
    validate_chinese_name,
    validate_mobile,
)
from models.audit import AuditEvent
from models.members import (
    CERT_FLOW,
    CertStatus,
    IdType,
    Member,
    MemberNoCounter,
    MembershipStatus,
    MemberTransfer,
)
from models.organizations import Org, OrgLevel, Unit

REVEALABLE = {"id_number": "证件号码", "phone": "手机号"}


def validate_member(session: Session, member: Member) -> None:
    """Normalize a member in place and collect every field error before raising.

    Rules: Chinese name; resident IDs pass GB 11643 and fix gender and birth date;
    the ID number is unique; mobile is 11 digits ``1[3-9]…``; the union is a base
    union and the unit belongs to it.

    Raises:
        MemberInvalidError: ``errors`` maps field → Chinese message.
    """
    errors: dict[str, str] = {}
    member.id_type = member.id_type or IdType.RESIDENT
    try:
        member.name = validate_chinese_name(member.name) if member.id_type == IdType.RESIDENT \
            else normalize_text(member.name)
        if not member.name:
            raise ValidationError("姓名不能为空")
    except ValidationError as err:
        errors["name"] = str(err)
    if member.id_type == IdType.RESIDENT:
        try:
            rid = parse_resident_id(member.id_number)
            member.id_number, member.birth_date, member.gender = rid.number, rid.birth_date, rid.gender
        except ValidationError as err:
            errors["id_number"] = str(err)
    else:
        member.id_number = normalize_text(member.id_number).upper()
        if not member.id_number:
            errors["id_number"] = "证件号码不能为空"
    if "id_number" not in errors:
        clash = session.scalar(select(Member.id).where(Member.id_number == member.id_number,
                                                       Member.id != (member.id or 0)))
        if clash:
            errors["id_number"] = "该证件号码已登记为会员（一人一会籍），不能重复添加"
    if member.phone:
        try:
            member.phone = validate_mobile(member.phone)
        except ValidationError as err:
            errors["phone"] = str(err)
    try:
        member.citizen_card_no = normalize_citizen_card(member.citizen_card_no) or None
    except ValidationError as err:
        errors["citizen_card_no"] = str(err)
    org = session.get(Org, member.org_id) if member.org_id else None
    if org is None or org.level != OrgLevel.BASE:
        errors["org"] = "所属工会须为基层工会"
    if member.unit_id:
        unit = session.get(Unit, member.unit_id)
        if unit is None or unit.org_id != member.org_id:
            errors["unit"] = "所在单位不属于所选基层工会"
    if errors:
        raise MemberInvalidError(errors)


def reserve_member_numbers(session: Session, district: str, count: int) -> list[str]:
    """Seed 002's 10-digit member numbers: the district code + the next ``count`` of its
    7-digit sequence, reserved atomically (row lock on the counter) for bulk imports too."""
    if count <= 0:
        return []
    table = MemberNoCounter.__table__
    bump = update(table).where(table.c.district == district).values(last=table.c.last + count).returning(table.c.last)
    last = session.execute(bump).scalar()
    if last is None:
        try:
            with session.begin_nested():
                session.execute(insert(table).values(district=district, last=count))
            last = count
        except IntegrityError:  # another transaction created the counter first
            last = session.execute(bump).scalar()
    return [f"{district}{n:07d}" for n in range(last - count + 1, last + 1)]


def assign_member_no(session: Session, member: Member) -> None:
    """Give a new member its number (kept for life, also across transfers)."""
    if member.member_no:
        return
    org = session.get(Org, member.org_id)
    member.member_no = reserve_member_numbers(session, org.district_code(), 1)[0]


def create_member(session: Session, *, actor=None, commit: bool = True, **fields) -> Member:
    """Register a member after :func:`validate_member`; assigns the member number.

    Raises:
        MemberInvalidError
    """
    member = Member(**fields)
    validate_member(session, member)
    session.add(member)
    session.flush()
    assign_member_no(session, member)
    if commit:
        session.commit()
    return member


ENDED = (MembershipStatus.LEFT, MembershipStatus.TRANSFERRED_OUT)  # 离会 / 转出 (out of the city)


def membership_changed(session: Session, changes: dict[int, tuple[str | None, str]], *, actor) -> int:
    """Consequences of 会籍状态 changes ``{member id: (old, new)}`` made by the caller (no commit, so
    they land in the caller's transaction): a membership that becomes 离会 or 转出 ends the member's
    service card and coverage (``service_cards.cards.end_membership``). Returns the cards cancelled.
    """
    from app.services.service_cards.cards import end_membership

    cancelled = 0
    for status in ENDED:
        ids = [m for m, (old, new) in changes.items() if new == status and old not in ENDED]
        if ids:
            cancelled += end_membership(session, ids, status=status, actor=actor)
    return cancelled


def check_member_deletable(session: Session, member: Member) -> None:
    """Only a record entered by mistake may be deleted: never one with history.

    Raises:
        DomainError: transfers, a certification or a service card exist (set 会籍状态 to 离会 instead).
    """
    from models.service_cards import CardApplication, ServiceCard

    has_transfers = session.scalar(select(MemberTransfer.id).where(MemberTransfer.member_id == member.id).limit(1))
    if has_transfers or member.cert_status != CertStatus.UNVERIFIED:
        raise DomainError("该会员已有转会或认证记录，不能删除；如已离会，请将会籍状态改为「离会」")
    if session.scalar(select(ServiceCard.id).where(ServiceCard.member_id == member.id).limit(1)) or session.scalar(
            select(CardApplication.id).where(CardApplication.member_id == member.id).limit(1)):
        raise DomainError("该会员已办理会员服务卡，不能删除；如已离会，请将会籍状态改为「离会」（服务卡随之注销）")


def scoped_member(session: Session, member_id: int, user) -> Member:
    """The member if it lies in ``user``'s scope.

    Raises:
        NotFoundError: missing or outside scope (callers answer 404).
    """
    member = session.scalar(select(Member).where(Member.id == member_id,
                                                 org_scope_clause(Member.org_id, user)))
    if member is None:
        raise NotFoundError("会员不存在或不在您的管辖范围内")
    return member


def review_certification(session: Session, member_id: int, action: str, *, actor,
                         reason: str | None = None, can=None) -> Member:
    """Apply one step of real-name certification (未认证 → 待审核 → 已认证 / 驳回).

    Raises:
        NotFoundError, InvalidTransitionError, SelfApprovalError, ReasonRequiredError.
    """
    member = review_flow.apply_transition(
        session, Member, member_id, action, flow=CERT_FLOW, actor=actor, reason=reason,
        status_attr="cert_status", status_labels=CertStatus,
        scope_clause=org_scope_clause(Member.org_id, actor) if actor is not None else None, can=can,
    )
    session.commit()
    return member


def transfer_member(session: Session, member_id: int, to_org_id: int, *, actor, reason: str,
                    to_unit_id: int | None = None) -> MemberTransfer:
    """转会: move a member to another base union, keeping the member number and history.

    Rules: both unions in the actor's scope; the target is a base union different
    from the current one; the unit (if any) belongs to the target; a reason is given;
    only members 在会 can be transferred; his active service card moves with him (A-12).

    Raises:
        NotFoundError, DomainError.
    """
    member = scoped_member(session, member_id, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写转会原因")
    if member.status != MembershipStatus.ACTIVE:
        raise DomainError(f"会籍状态为「{member.status_label}」的会员不能转会")
    target = session.get(Org, to_org_id)
    if target is None or not org_in_scope(session, to_org_id, actor):
        raise NotFoundError("目标工会不存在或不在您的管辖范围内")
    if target.level != OrgLevel.BASE:
        raise DomainError("只能转入基层工会")
    if target.id == member.org_id:
        raise DomainError("目标工会与当前工会相同")
    if to_unit_id is not None:
        unit = session.get(Unit, to_unit_id)
        if unit is None or unit.org_id != target.id:
            raise DomainError("所选单位不属于目标工会")
    move = MemberTransfer(member_id=member.id, from_org_id=member.org_id, to_org_id=target.id,
                          from_unit_id=member.unit_id, to_unit_id=to_unit_id, reason=reason,
                          actor_id=getattr(actor, "id", None),
                          actor_name=getattr(actor, "username", None) or audit.SYSTEM)
    session.add(move)
    member.org_id, member.unit_id = target.id, to_unit_id
    from app.services.service_cards.cards import follow_transfer

    moved = follow_transfer(session, member.id, target, actor=actor, reason=reason)  # the card follows, number unchanged
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="member", target_id=member.id,
                 summary=f"转会至 {target.name}" + ("（会员服务卡随转）" if moved else ""),
                 detail={"reason": reason, "to_org_id": target.id, "cards_moved": moved})
    session.commit()
    return move


def reveal_member_field(session: Session, member_id: int, field: str, *, actor, reason: str) -> str:
    """Return one unmasked field and write the audit row that says who saw it and why.

    Raises:
        NotFoundError, DomainError: unknown field or a reason shorter than 4 characters.
    """
    if field not in REVEALABLE:
        raise DomainError("不支持查看该字段")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("请填写查看原因（至少4个字）")
    member = scoped_member(session, member_id, actor)
    audit.record(session, AuditEvent.REVEAL, actor=actor, target_type="member", target_id=member.id,
                 summary=f"查看 {member.name} 的{REVEALABLE[field]}", detail={"field": field, "reason": reason})
    session.commit()
    return getattr(member, field) or ""


def submit_self_certification(session: Session, user, *, name, id_number) -> Member:
    """工会会员认证 by the member himself (seed 003 L524, vouchers-gaps gap 7): the name and ID number
    must match a member of the registry; the account is bound to that member and its certification
    goes to 待审核, reviewed by the base union through CERT_FLOW.

    Rules: no match → 「未查询到会员信息」 (nothing else said about the registry); a member already bound
    to another account, an account bound to another member, 待审核 and 已认证 are refused.

    Raises:
        DomainError: ``bad_request``, ``member_not_found``, ``already_bound``, ``already_pending``,
        ``already_verified``; the engine's errors under a race.
    """
    from models.security import AppUser

    name, number = normalize_text(name if isinstance(name, str) else ""), normalize_text(
        id_number if isinstance(id_number, str) else "").upper()
    if not name or not number or len(name) > 50 or len(number) > 32:
        raise DomainError("请填写姓名和身份证号", code="bad_request")
    try:
        number = parse_resident_id(number).number
    except ValidationError:
        pass  # other ID types are matched as written
    member = session.scalar(select(Member).where(Member.id_number == number, Member.name == name))
    if member is None:
        raise NotFoundError("未查询到会员信息", code="member_not_found")
    if user.member_id not in (None, member.id):
        raise DomainError("该账户已绑定其他会员", code="already_bound")
    holder = session.scalar(select(AppUser.id).where(AppUser.member_id == member.id, AppUser.id != user.id))
    if holder is not None:
        raise DomainError("该会员已由其他账户认证，如有疑问请联系所在基层工会", code="already_bound")
    if member.cert_status == CertStatus.PENDING:
        raise DomainError("认证申请已提交，正在等待工会审核，请勿重复提交", code="already_pending")
    if member.cert_status == CertStatus.VERIFIED:
        raise DomainError("您已完成实名认证", code="already_verified")
    review_flow.apply_transition(session, Member, member.id, "submit", flow=CERT_FLOW, actor=user,
                                 status_attr="cert_status", status_labels=CertStatus)
    account = session.get(AppUser, user.id)
    account.member_id, account.org_id = member.id, member.org_id
    session.commit()
    return member


def registration_regions(session: Session) -> list[Org]:
    """注册地区 (S003:L515): the city federation and its district / industry federations."""
    return list(session.scalars(select(Org).where(Org.level.in_([OrgLevel.CITY, OrgLevel.COUNTY]))
                                .order_by(Org.path)))


def _unregistered_phone(session: Session, phone) -> str:
    from models.security import AppUser

    try:
        phone = validate_mobile(phone if isinstance(phone, str) else "")
    except ValidationError as err:
        raise DomainError(str(err), code="phone_invalid", field="phone") from None
    if session.scalar(select(AppUser.id).where((AppUser.username == phone) | (AppUser.mobile == phone))):
        raise DomainError("该手机号已注册，请直接登录（忘记密码可通过短信找回）", code="phone_registered", field="phone")
    return phone


def send_member_registration_code(session: Session, phone) -> str:
    """用户注册 step 1: an SMS code to a mobile that has no account yet (limits of ``verification``).

    Raises:
        DomainError: ``phone_invalid``, ``phone_registered``, ``code_too_soon``, ``code_daily_limit``.
    """
    from app.services import verification
    from models.verification import CodePurpose

    return verification.send_code(session, _unregistered_phone(session, phone), CodePurpose.MEMBER_REGISTRATION)


def register_member_account(session: Session, *, phone, password, code, region_id, agreed):
    """用户注册 (S003:L514): phone, password, SMS code, region, agreement → a 会员 account whose user name
    is the phone; it then submits 工会会员认证 to be bound to its member record. Commits.

    Rules: the agreement accepted; a valid mobile without an account; the password policy; a region of
    ``registration_regions``; the SMS code (checked last, so a form error costs no try).

    Raises:
        DomainError: ``agreement_required``, ``phone_invalid``, ``phone_registered``, ``password_weak``,
        ``region_invalid``, the code's errors (``code_missing``, ``code_invalid``, ``code_expired``…).
    """
    from flask import current_app

    from app.services import verification
    from app.validators import check_password_policy
    from models.verification import CodePurpose

    if agreed is not True:
        raise DomainError("请阅读并同意用户协议", code="agreement_required", field="agree")
    phone = _unregistered_phone(session, phone)
    try:
        check_password_policy(password if isinstance(password, str) else "")
    except ValidationError as err:
        raise DomainError(str(err), code="password_weak", field="password") from None
    region = session.get(Org, region_id) if isinstance(region_id, int) and 0 < region_id < 2**31 else None
    if region is None or region.level not in (OrgLevel.CITY, OrgLevel.COUNTY):
        raise DomainError("请选择注册地区", code="region_invalid", field="region_id")
    verification.check_code(session, phone, CodePurpose.MEMBER_REGISTRATION, code if isinstance(code, str) else "")
    sm = current_app.appbuilder.sm
    user = sm.add_user(phone, phone, "", f"{phone}@members.invalid", sm.find_role("会员"), password=password,
                       commit=False)
    if not user:
        session.rollback()
        raise DomainError("注册失败，请稍后重试", code="registration_failed")
    user.mobile, user.org_id = phone, region.id
    session.flush()
    audit.record(session, AuditEvent.ACTION, actor=user, target_type="ab_user", target_id=user.id,
                 summary=f"会员注册：{mask_phone(phone)}（{region.name}）")
    session.commit()
    return user
