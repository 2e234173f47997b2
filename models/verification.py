"""SMS verification codes (短信验证码): stored hashed, purpose-scoped, limited (I-1)."""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String

from .base import LabeledEnum, Model, UTCDateTime, utcnow


class CodePurpose(LabeledEnum):
    REGISTRATION = "registration", "单位注册"      # proves the contact's mobile at self-registration
    PASSWORD_RESET = "password_reset", "找回密码"   # forgot password
    BINDING = "binding", "账户绑定"                # a worker binds his account to his insured record
    MEMBER_REGISTRATION = "member_registration", "会员注册"  # a member registers in the app (S003:L514)


class VerificationCode(Model):
    """One code sent to one phone for one purpose; only its keyed hash is kept."""

    __tablename__ = "verification_code"
    id = Column(Integer, primary_key=True)
    phone = Column(String(11), nullable=False)
    purpose = Column(String(20), nullable=False)
    code_hash = Column(String(64), nullable=False)   # HMAC-SHA256(SECRET_KEY, purpose|phone|code)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime)                    # a code proves one thing once

    __table_args__ = (Index("ix_verification_code_phone", "phone", "created_at"),)
