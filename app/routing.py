"""Numbers in URLs are numbers the database can take: anything else is refused, never a 500.

- A path parameter ``pk`` or ``<name>_id`` that is not a positive integer in the database's
  range (a huge number, junk) would reach SQL and fail there (``integer out of range`` and
  ``invalid input syntax`` are 500s on PostgreSQL): one check before every request answers 404,
  and :func:`parse_id` is the same rule for ids read from forms and query strings.
- FAB's list paging (``page_<View>``, ``psize_<View>``) calls ``int()`` on whatever it gets:
  a junk, negative or huge value (a million rows on one page) sends the user back to the same
  list without it, a page size above :data:`MAX_PAGE_SIZE` is lowered to it.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import abort, redirect, request

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL and SQLite alike
MAX_PAGE_SIZE = 100  # the largest choice of FAB's 显示行数
MAX_PAGE = 100_000  # far beyond LIST_COUNT_CAP at any page size
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


def repair_paging_args():
    """before_request: list paging arguments FAB cannot take are dropped (or lowered) by a redirect."""
    if request.method != "GET" or request.path.startswith("/api/"):
        return None
    args, changed = request.args.to_dict(flat=False), False
    for name, values in list(args.items()):
        limit = MAX_PAGE_SIZE if "psize_" in name else MAX_PAGE if "page_" in name else None
        if limit is None:
            continue
        text = (values[-1] or "").strip() if values else ""
        number = int(text) if _DIGITS.fullmatch(text) else None
        if number is None or ("psize_" in name and number == 0):
            del args[name]
        elif number > limit:
            args[name] = [str(limit)]
        elif len(values) == 1:
            continue
        else:
            args[name] = [text]
        changed = True
    if not changed:
        return None
    return redirect(request.path + ("?" + urlencode(args, doseq=True) if args else ""))
