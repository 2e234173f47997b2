"""Shared column types and helpers for all domain models (no Flask here)."""
from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

from flask_appbuilder import Model
from sqlalchemy import DateTime, types

__all__ = ["Model", "UTCDateTime", "utcnow", "LabeledEnum"]


DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def as_aware(value: datetime | None) -> datetime | None:
    """A naive datetime typed by a person is Beijing time; aware ones are kept."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=DISPLAY_TZ)


def as_local_naive(value: datetime | None) -> datetime | None:
    """What a form field shows: Beijing wall-clock time."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(DISPLAY_TZ).replace(tzinfo=None)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """Timezone-aware datetime stored as UTC; SQLite's naive values come back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            # a naive value comes from a person (a list filter, a form): it is Beijing time
            value = value.replace(tzinfo=DISPLAY_TZ)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class LabeledEnum(StrEnum):
    """A string enum whose members carry their Chinese label: ``DRAFT = "draft", "草稿"``."""

    def __new__(cls, value: str, label: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def label_of(cls, value) -> str:
        try:
            return cls(value).label
        except ValueError:
            return "" if value is None else str(value)
