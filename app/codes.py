"""Voucher codes: 13 random characters from an alphabet without look-alikes (no 0 O 1 I L),
64 bits of randomness, plus a check character that catches any single mistyped
character and any swap of two neighbours (weights 1..14 modulo the prime 31)."""
from __future__ import annotations

import io
import operator
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 characters
RANDOM_CHARS = 13                           # 31**13 ≈ 2**64.4
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def check_char(body: str) -> str:
    return ALPHABET[sum((i + 1) * _VALUE[c] for i, c in enumerate(body)) % 31]


# random bytes → characters in C: a byte below 248 (= 8 × 31) picks ALPHABET[byte % 31], the
# others are dropped, so every character is uniform and independent (13 of them: uniform bodies)
_PICK = bytes(ord(ALPHABET[b % 31]) if b < 248 else 0 for b in range(256))
_DROP = bytes(range(248, 256))
_VALUES = bytes(_VALUE.get(chr(b), 0) for b in range(256))
_WEIGHTS = range(1, RANDOM_CHARS + 1)


def new_codes(count: int) -> list[str]:
    """``count`` fresh codes (the database's unique index is the backstop against a repeat)."""
    wanted = count * RANDOM_CHARS
    chars = b""
    while len(chars) < wanted:
        chars += secrets.token_bytes(wanted - len(chars) + wanted // 30 + 16).translate(_PICK, _DROP)
    codes = []
    for start in range(0, wanted, RANDOM_CHARS):
        body = chars[start:start + RANDOM_CHARS]
        check = sum(map(operator.mul, _WEIGHTS, body.translate(_VALUES))) % 31
        codes.append(body.decode() + ALPHABET[check])
    return codes


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
