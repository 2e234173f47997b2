"""SMS verification codes (I-1): 6 digits, valid 5 minutes, at most 5 tries, 1 a minute and
10 a (Beijing) day per phone, stored as a keyed hash, scoped to one purpose, used once."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services import outbox
from app.services.errors import DomainError
from app.validators import ValidationError, validate_mobile
from models.base import DISPLAY_TZ, utcnow
from models.verification import CodePurpose, VerificationCode

VALID_MINUTES = 5
MAX_TRIES = 5
PER_DAY = 10


class CodeError(DomainError):
    code = "code_invalid"


def _hash(phone: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}|{phone}|{code}".encode(), hashlib.sha256).hexdigest()


def _phone(value) -> str:
    try:
        return validate_mobile(value)
    except ValidationError as err:
        raise DomainError(str(err), code="phone_invalid", field="phone") from None


def send_code(session: Session, phone: str, purpose: CodePurpose, *, now: datetime | None = None) -> str:
    """Issue a code for ``purpose`` and queue its SMS; commits. Returns the code (for the caller's
    tests only: it is never shown on a page).

    Raises:
        DomainError: bad mobile; ``code_too_soon`` (one a minute); ``code_daily_limit`` (10 a day).
    """
    phone, purpose, now = _phone(phone), CodePurpose(purpose), now or utcnow()
    last = session.scalar(select(func.max(VerificationCode.created_at)).where(VerificationCode.phone == phone))
    if last is not None and now - last < timedelta(minutes=1):
        wait = 60 - int((now - last).total_seconds())
        raise DomainError(f"验证码发送过于频繁，请{wait}秒后再试", code="code_too_soon")
    day_start = now.astimezone(DISPLAY_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    today = session.scalar(select(func.count(VerificationCode.id)).where(
        VerificationCode.phone == phone, VerificationCode.created_at >= day_start))
    if today >= PER_DAY:
        raise DomainError(f"该手机号今日获取验证码已达{PER_DAY}次，请明天再试", code="code_daily_limit")
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(VerificationCode(phone=phone, purpose=purpose, code_hash=_hash(phone, purpose, code),
                                 created_at=now, expires_at=now + timedelta(minutes=VALID_MINUTES)))
    outbox.queue_sms(session, phone, "verification_code", {"purpose": purpose.label, "code": code})
    session.commit()
    return code


def check_code(session: Session, phone: str, purpose: CodePurpose, code: str, *,
               now: datetime | None = None) -> None:
    """Accept the latest unused code of this phone and purpose, once: on success it is marked used
    in the caller's transaction (the caller commits); every wrong try counts and is committed
    even though the request is refused.

    Raises:
        CodeError: no code sent, expired, used up (5 tries), or wrong.
    """
    phone, purpose, now = _phone(phone), CodePurpose(purpose), now or utcnow()
    code = (code or "").strip()
    row = session.scalar(select(VerificationCode).where(
        VerificationCode.phone == phone, VerificationCode.purpose == purpose, VerificationCode.used_at.is_(None))
        .order_by(VerificationCode.id.desc()).limit(1).with_for_update())
    if row is None:
        raise CodeError("请先获取短信验证码", code="code_missing")
    if row.expires_at <= now:
        raise CodeError("验证码已过期，请重新获取", code="code_expired")
    if row.attempts >= MAX_TRIES:
        raise CodeError("验证码错误次数过多，请重新获取", code="code_locked")
    if not (len(code) == 6 and code.isdigit() and hmac.compare_digest(row.code_hash, _hash(phone, purpose, code))):
        row.attempts += 1
        left = MAX_TRIES - row.attempts
        session.commit()
        raise CodeError(f"验证码不正确，还可尝试{left}次" if left else "验证码错误次数过多，请重新获取",
                        code="code_invalid" if left else "code_locked")
    row.used_at = now
