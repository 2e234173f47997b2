"""Document numbers (I-6) from locked counters: the same number is never issued twice, under
any concurrency, and a day's series starts again at 1.

- enrollments 参保单 ``CB{yyyymmdd}{seq:06d}``, claim cases 申领案件 ``SL{yyyymmdd}{seq:06d}``;
- subsidy applications ``ZY{yyyymmdd}{letter}{seq:06d}`` (S001:L62 ``ZY20201230L000001``), per day and letter;
- info-change requests ``BG`` + a 19-digit time-ordered number (S001:L108: a Twitter-epoch snowflake).
Dates are Beijing dates.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from models.base import DISPLAY_TZ, utcnow
from models.numbers import NumberCounter

SNOWFLAKE_EPOCH_MS = 1288834974657  # Twitter's epoch: BG1344168415351173120 decodes to the seed's 创建时间
_SEQUENCE_BITS = 22                  # snowflake: worker (10) + sequence (12) bits; here one counter


def reserve(session: Session, series: str, count: int = 1) -> list[int]:
    """The next ``count`` numbers of ``series``, reserved under a row lock (commits with the caller).

    Raises:
        DomainError: ``count`` is not positive.
    """
    if count <= 0:
        raise DomainError("编号数量须为正数")
    table = NumberCounter.__table__
    bump = update(table).where(table.c.series == series).values(last=table.c.last + count).returning(table.c.last)
    last = session.execute(bump).scalar()
    if last is None:
        try:
            with session.begin_nested():
                session.execute(insert(table).values(series=series, last=count))
            last = count
        except IntegrityError:  # another transaction created the series first
            last = session.execute(bump).scalar()
    return list(range(last - count + 1, last + 1))


def _local_day(at: datetime | None) -> str:
    return (at or utcnow()).astimezone(DISPLAY_TZ).strftime("%Y%m%d")


def daily_number(session: Session, prefix: str, at: datetime | None = None, *, letter: str = "") -> str:
    """``{prefix}{yyyymmdd}{letter}{seq:06d}``, the sequence per prefix, Beijing day and letter."""
    day = _local_day(at)
    seq = reserve(session, f"{prefix}:{day}:{letter}")[0]
    if seq > 999_999:
        raise DomainError("当日编号已用尽，请联系管理员")
    return f"{prefix}{day}{letter}{seq:06d}"


def enrollment_number(session: Session, at: datetime | None = None) -> str:
    return daily_number(session, "CB", at)


def claim_number(session: Session, at: datetime | None = None) -> str:
    return daily_number(session, "SL", at)


def number_letter(org_code: str | None) -> str:
    """The letter of ``ZY…`` numbers for a county-level org (setting ``NUMBER_LETTERS``: code → letter)."""
    letters = current_app.config.get("NUMBER_LETTERS", {}) if has_app_context() else {}
    default = current_app.config.get("NUMBER_LETTER_DEFAULT", "L") if has_app_context() else "L"
    return letters.get((org_code or "")[:3], default)


def subsidy_number(session: Session, letter: str, at: datetime | None = None) -> str:
    if len(letter) != 1 or not letter.isascii() or not letter.isupper():
        raise DomainError("编号字母须为一个大写英文字母")
    return daily_number(session, "ZY", at, letter=letter)


def snowflake(session: Session, at: datetime | None = None) -> int:
    """A unique, time-ordered 19-digit number: milliseconds since the Twitter epoch in the high
    bits, a locked counter in the low 22 bits (unique unless 4 million are drawn in one ms)."""
    ms = int((at or utcnow()).timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
    seq = reserve(session, "snowflake")[0] % (1 << _SEQUENCE_BITS)
    return (ms << _SEQUENCE_BITS) | seq


def snowflake_time(number: int) -> datetime:
    """When a snowflake number was made (aware UTC)."""
    ms = (number >> _SEQUENCE_BITS) + SNOWFLAKE_EPOCH_MS
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)


def change_request_number(session: Session, at: datetime | None = None) -> str:
    return f"BG{snowflake(session, at)}"
