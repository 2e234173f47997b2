"""Voucher codes: 13 random characters from an alphabet without look-alikes (no 0 O 1 I L),
64 bits of randomness, plus a check character that catches any single mistyped
character and any swap of two neighbours (weights 1..14 modulo the prime 31)."""
from __future__ import annotations

import io
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 characters
RANDOM_CHARS = 13                           # 31**13 ≈ 2**64.4
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def check_char(body: str) -> str:
    return ALPHABET[sum((i + 1) * _VALUE[c] for i, c in enumerate(body)) % 31]


_SPACE = len(ALPHABET) ** RANDOM_CHARS


def new_code() -> str:
    n = secrets.randbelow(_SPACE)  # uniform over every 13-character body
    chars = []
    for _ in range(RANDOM_CHARS):
        n, digit = divmod(n, 31)
        chars.append(ALPHABET[digit])
    body = "".join(chars)
    return body + check_char(body)


def normalize_code(raw: str) -> str | None:
    """A typed or scanned code without spaces/dashes, upper-case; None if it cannot be one."""
    code = "".join(ch for ch in (raw or "").upper() if ch not in " -\t")
    if len(code) != RANDOM_CHARS + 1 or any(ch not in _VALUE for ch in code):
        return None
    return code if check_char(code[:-1]) == code[-1] else None


def qr_png(code: str, scale: int = 8) -> bytes:
    """The QR image a merchant scans (the code itself, medium error correction)."""
    import segno

    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
