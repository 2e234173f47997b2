"""Normalizing what a spreadsheet cell holds into what a form field would hold."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")


class CellError(ValueError):
    """A cell that cannot be read as the column expects; the message is Chinese."""


def text(value) -> str:  # noqa: PLR0911 - one branch per cell type
    """Any cell as trimmed text: full-width to half-width, no NBSP/ideographic spaces;
    integral floats without ``.0`` (a phone typed as a number)."""
    if type(value) is str:
        if value.isascii() or unicodedata.is_normalized("NFKC", value):
            return value.strip()
        return unicodedata.normalize("NFKC", value).replace("\u3000", " ").strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    out = str(value)
    if not unicodedata.is_normalized("NFKC", out):  # full-width digits/letters, odd spaces
        out = unicodedata.normalize("NFKC", out).replace("\u3000", " ")
    return out.strip()


def id_text(value) -> str:
    """An ID number cell; a number longer than 15 digits has lost its tail in Excel.

    Raises:
        CellError: the cell was stored as a number and is corrupted.
    """
    if isinstance(value, float) and abs(value) >= 1e15:
        raise CellError("证件号码被 Excel 存成了数字，超过15位的部分已丢失，请将该列设为文本后重新填写")
    return text(value).replace(" ", "").upper()


def date_value(value) -> date | None:
    """A date from a date cell, an Excel serial number or text (2020-01-02, 2020/1/2, 2020年1月2日, 20200102).

    Raises:
        CellError: not a date, or an impossible one.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError("日期数值超出范围")
    return _date_from_text(text(value))


@lru_cache(maxsize=8192)
def _date_from_text(raw: str) -> date | None:
    """Dates in a column repeat a lot: parse each distinct text once."""
    if not raw:
        return None
    if re.fullmatch(r"\d{8}", raw):
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    if re.fullmatch(r"\d{5}(\.\d+)?", raw):
        return EXCEL_EPOCH + timedelta(days=int(float(raw)))
    match = _DATE_TEXT.fullmatch(raw)
    if not match:
        raise CellError(f"「{raw}」不是有效日期，请按 2020-01-31 的格式填写")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise CellError(f"日期「{raw}」不存在") from None
