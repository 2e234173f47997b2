"""Ids in URLs and parameters are database integers: anything else answers 404, never a 500.

A path parameter ``pk`` or ``<name>_id`` that is not a positive integer in the database's
range (a huge number, junk) would reach SQL and fail there (``integer out of range`` and
``invalid input syntax`` are 500s on PostgreSQL): one check before every request refuses it,
and :func:`parse_id` is the same rule for ids read from forms and query strings.
"""
from __future__ import annotations

import re

from flask import abort, request

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL and SQLite alike
_DIGITS = re.compile(r"\d{1,10}")


def parse_id(value) -> int | None:
    """``value`` as a row id, or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = str(value or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def is_id_parameter(name: str) -> bool:
    return name == "pk" or name.endswith("_id")


def refuse_impossible_ids():
    """before_request: a path id no row can have is a 404."""
    for name, value in (request.view_args or {}).items():
        if is_id_parameter(name) and parse_id(value) is None:
            abort(404)
