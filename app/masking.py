"""Masking of personal data for lists, APIs, exports and audit rows."""
from __future__ import annotations


def _mask(value: str | None, head: int, tail: int) -> str:
    if not value:
        return ""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id_number(value: str | None) -> str:
    """``110101199003070028`` → ``110***********0028`` (seed 003 fig. 19 style)."""
    return _mask(value, 3, 4)


def mask_phone(value: str | None) -> str:
    """``13800138000`` → ``138****8000``."""
    return _mask(value, 3, 4)


def mask_name(value: str | None) -> str:
    """``张三丰`` → ``张**``."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
