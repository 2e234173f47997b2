"""Amounts in Chinese capitals (人民币大写), as on receipts and letters: 6,800.00 → 陆仟捌佰元整."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]


def _four(n: int) -> str:
    """0 < n < 10000 → capitals with inner zeros (1005 → 壹仟零伍)."""
    out, zero = "", False
    for power in range(3, -1, -1):
        digit = n // 10**power % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _UNITS[power]
    return out


def rmb_upper(amount) -> str:
    """``Decimal("12345.67")`` → ``壹万贰仟叁佰肆拾伍元陆角柒分``; rounds half-up to the fen first.

    Raises:
        ValueError: negative, or 10^16 yuan and above.
    """
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0 or value >= Decimal(10) ** 16:
        raise ValueError("amount out of range")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    words = ""
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    gap = False  # zero digits stand between the last written digit and the next group
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            gap = bool(words)
            continue
        if words and (gap or group < 1000):
            words += "零"
        words += _four(group) + _GROUPS[index]
        gap = group % 10 == 0
    if words:
        words += "元"
    if jiao == 0 and fen == 0:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    else:
        words += "整"
    return words
