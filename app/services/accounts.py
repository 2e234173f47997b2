"""Account provisioning (I-9): accounts bound to an org, a merchant or a member unit, created
with a one-time password sent by SMS and changed at the first login; forgotten passwords reset
by an SMS code. Covers S004:L8, L21, L32 (and S003:L72's default passwords, which we refuse: A-26)."""
from __future__ import annotations

import re
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services import audit, outbox, verification
from app.services.errors import DomainError
from app.validators import ValidationError, check_password_policy, validate_mobile
from models.audit import AuditEvent
from models.security import AppUser
from models.verification import CodePurpose

# what an account still on its one-time password is told by the APIs (the pages redirect instead)
PASSWORD_CHANGE_REQUIRED = ("password_change_required", "首次登录须先修改初始密码，请登录网页端修改后再试")
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
_SYMBOLS = "@#%+=?"


def one_time_password(length: int = 12) -> str:
    """A random password that meets the policy (lower, upper, digit, symbol; no confusables)."""
    while True:
        chars = [secrets.choice(_ALPHABET) for _ in range(length - 1)] + [secrets.choice(_SYMBOLS)]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        try:
            check_password_policy(password)
        except ValidationError:
            continue
        if re.search(r"[a-z]", password) and re.search(r"[A-Z]", password) and re.search(r"\d", password):
            return password


def pinyin_username(name: str) -> str:
    """A person's name in lower-case full pinyin (S004:L8 "经办人姓名小写全拼"): 张三 → zhangsan.
    Polyphonic characters take pypinyin's first (most common) reading; ü is written v."""
    from pypinyin import Style, lazy_pinyin

    letters = "".join(lazy_pinyin(name or "", style=Style.NORMAL, errors="ignore", v_to_u=False))
    letters = re.sub(r"[^a-z]", "", letters.lower())
    return letters[:50] or "user"


def unique_username(session: Session, base: str) -> str:
    """``base``, or ``base2``, ``base3``… when taken (A-25: the approval SMS says which)."""
    taken = set(session.scalars(select(AppUser.username).where(AppUser.username.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def provision_account(session: Session, *, username: str, display_name: str, role_label: str, mobile: str,
                      email: str | None = None, org_id: int | None = None, merchant_id: int | None = None,
                      member_unit_id: int | None = None, sms_template: str = "account_created",
                      sms_params: dict | None = None, related=None) -> tuple[AppUser, str]:
    """Create an account bound to an org, merchant or member unit, with a one-time password that
    must be changed at the next request; queue the SMS with the username and password. No commit:
    the account exists exactly when the caller's change (an approval) commits.

    Raises:
        DomainError: the username is taken, the role does not exist or the mobile is invalid.
    """
    sm = current_app.appbuilder.sm
    role = sm.find_role(role_label)
    if role is None:
        raise DomainError(f"角色「{role_label}」不存在", code="role_missing")
    try:
        mobile = validate_mobile(mobile)
    except ValidationError as err:
        raise DomainError(str(err), code="phone_invalid") from None
    if session.scalar(select(AppUser.id).where(AppUser.username == username)):
        raise DomainError(f"用户名「{username}」已被使用", code="username_taken")
    if not email or session.scalar(select(AppUser.id).where(AppUser.email == email)):
        email = f"{username}@accounts.invalid"  # FAB requires unique e-mails; the unit's own stays on the unit
    password = one_time_password()
    user = sm.add_user(username, display_name, "", email, role, password=password, commit=False)
    if not user:
        raise DomainError("账户创建失败，请稍后重试", code="account_failed")
    user.org_id, user.merchant_id, user.member_unit_id = org_id, merchant_id, member_unit_id
    user.mobile, user.must_change_password = mobile, True
    params = {"name": display_name, "username": username, "password": password, **(sms_params or {})}
    outbox.queue_sms(session, mobile, sms_template, params, related=related)
    audit.record(session, AuditEvent.ACTION, target_type="ab_user", target_id=user.id,
                 summary=f"开通账户 {username}（{role_label}），一次性密码已短信发送")
    return user, password


def _set_password(user: AppUser, password: str) -> None:
    from werkzeug.security import generate_password_hash

    cfg = current_app.config
    user.password = generate_password_hash(password, method=cfg.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
                                           salt_length=cfg.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))


def change_password(session: Session, user: AppUser, *, old_password: str, new_password: str,
                    confirm: str) -> None:
    """The user's own change: the old password proves it is him; the policy holds; the new one differs.
    Clears ``must_change_password``; commits.

    Raises:
        DomainError: wrong old password, mismatch, same as before, or the policy is not met.
    """
    from werkzeug.security import check_password_hash

    if not check_password_hash(user.password or "", old_password or ""):
        _count_failed_attempt(user)
        raise DomainError("原密码不正确", code="wrong_password", field="old_password")
    _check_new(new_password, confirm)
    if check_password_hash(user.password, new_password):
        raise DomainError("新密码不能与原密码相同", code="same_password", field="password")
    _set_password(user, new_password)
    user.must_change_password = False
    audit.record(session, AuditEvent.PASSWORD_CHANGE, actor=user, target_type="ab_user", target_id=user.id,
                 summary="修改本人密码")
    session.commit()


def _count_failed_attempt(user: AppUser) -> None:
    """A wrong old password counts like a failed login: five in a row lock the account (and end its
    sessions), so the change form is no way round the login's lockout."""
    from flask import current_app, has_app_context

    if has_app_context():
        current_app.appbuilder.sm.update_user_auth_stat(user, success=False)


def _check_new(new_password: str, confirm: str) -> None:
    if (new_password or "") != (confirm or ""):
        raise DomainError("两次输入的新密码不一致", code="password_mismatch", field="confirm")
    try:
        check_password_policy(new_password)
    except ValidationError as err:
        raise DomainError(str(err), code="weak_password", field="password") from None


def _accounts_of(session: Session, phone: str, username: str | None):
    stmt = select(AppUser).where(AppUser.mobile == phone, AppUser.active.is_(True))
    if username:
        stmt = stmt.where(AppUser.username == username.strip())
    return list(session.scalars(stmt))


def send_reset_code(session: Session, phone: str) -> bool:
    """忘记密码, step 1: a code to the account's mobile. Answers the same whether or not an account
    has that mobile (no oracle); returns whether a code was sent (tests).

    Raises:
        DomainError: bad mobile, or the code limits (one a minute, ten a day).
    """
    try:
        phone = validate_mobile(phone)
    except ValidationError as err:
        raise DomainError(str(err), code="phone_invalid", field="phone") from None
    if not _accounts_of(session, phone, None):
        return False
    verification.send_code(session, phone, CodePurpose.PASSWORD_RESET)
    return True


def reset_password_with_code(session: Session, *, phone: str, code: str, new_password: str, confirm: str,
                             username: str | None = None) -> AppUser:
    """忘记密码, step 2: the code proves the mobile; the new password is set, the lockout lifted. When
    several accounts share the mobile the username chooses one. Commits.

    Raises:
        DomainError: code refused, no or several accounts, or the password policy.
    """
    _check_new(new_password, confirm)
    verification.check_code(session, phone, CodePurpose.PASSWORD_RESET, code)
    accounts = _accounts_of(session, validate_mobile(phone), username)
    if not accounts:
        raise DomainError("用户名与手机号不匹配" if username else "未找到使用该手机号的账户",
                          code="account_missing")
    if len(accounts) > 1:
        raise DomainError("该手机号对应多个账户，请同时填写用户名", code="username_required", field="username")
    user = accounts[0]
    _set_password(user, new_password)
    user.must_change_password, user.locked_until, user.fail_login_count = False, None, 0
    outbox.queue_sms(session, user.mobile, "password_reset", {"username": user.username})
    audit.record(session, AuditEvent.ACTION, actor=user, target_type="ab_user", target_id=user.id,
                 summary="通过短信验证码重置密码")
    session.commit()
    return user
