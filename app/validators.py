"""Pure validators for Chinese identifiers. Each returns the normalized value or
raises :class:`ValidationError` with a Chinese message; no Flask, no database."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from operator import getitem
from typing import NamedTuple


class ValidationError(ValueError):
    """A value the user typed is wrong; ``str(err)`` is the Chinese message."""


def normalize_text(value) -> str:
    """Full-width to half-width, strip blanks (incl. ideographic space and NBSP)."""
    if value is None:
        return ""
    if type(value) is str and (value.isascii() or unicodedata.is_normalized("NFKC", value)):
        return value.strip()
    text = unicodedata.normalize("NFKC", str(value))
    return text.strip().replace("\u3000", "").replace("\xa0", "")


# --- resident ID, GB 11643-1999 -------------------------------------------------
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_EXCEL_NUMBER = re.compile(r"\d+(\.\d+)?[eE]\+?\d+")
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_DIGITS11 = re.compile(r"\d{11}")
_MOBILE = re.compile(r"1[3-9]\d{9}")


# digit value × weight per position, looked up instead of multiplied (hot in bulk imports)
_ID_TABLE = [{str(d): d * w for d in range(10)} for w in _ID_WEIGHTS]


def resident_id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(map(getitem, _ID_TABLE, first17)) % 11]  # the loop runs in C


class ResidentId(NamedTuple):
    number: str
    birth_date: date
    gender: str  # "male" / "female"


def _today() -> date:
    return date.today()


def parse_resident_id(value) -> ResidentId:
    """Validate an 18-character resident ID (MOD 11-2) and derive birth date and gender.

    Raises:
        ValidationError: wrong length or characters, impossible birth date, bad check digit.
    """
    if type(value) is str and len(value) == 18 and value[:17].isdecimal() and value.isascii() \
            and (value[17].isdecimal() or value[17] in "Xx"):
        number = value.upper()  # the common, already clean shape: no normalizing, no patterns (bulk imports)
    else:
        number = normalize_text(value).replace(" ", "").upper()
        if _EXCEL_NUMBER.fullmatch(number):
            raise ValidationError("身份证号被 Excel 存成了数字（科学计数法），后几位已丢失，请将该列设为文本后重新填写")
        if len(number) != 18:
            raise ValidationError(f"身份证号应为18位，当前为{len(number)}位")
        if not _ID_SHAPE.fullmatch(number):
            raise ValidationError("身份证号前17位须为数字，最后一位为数字或X")
    if number[:2] == "00":
        raise ValidationError("身份证号地区码不正确")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("身份证号中的出生日期不存在") from None
    if birth.year < 1900 or birth > _today():
        raise ValidationError("身份证号中的出生日期不合理")
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError("身份证号校验位不正确，请核对号码")
    gender = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number, birth, gender)


# --- unified social credit code, GB 32100-2015 ----------------------------------
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(value) -> str:
    """Validate an 18-character unified social credit code (统一社会信用代码).

    Raises:
        ValidationError: wrong length, forbidden characters (I O Z S V), bad check character.
    """
    code = normalize_text(value).replace(" ", "").upper()
    if len(code) != 18:
        raise ValidationError(f"统一社会信用代码应为18位，当前为{len(code)}位")
    bad = sorted({c for c in code if c not in _USCC_CHARS})
    if bad:
        raise ValidationError(f"统一社会信用代码含有不允许的字符：{''.join(bad)}")
    if not re.fullmatch(r"\d{6}", code[2:8]):
        raise ValidationError("统一社会信用代码第3-8位应为行政区划码")
    if code[17] != uscc_check_char(code[:17]):
        raise ValidationError("统一社会信用代码校验位不正确")
    return code


# --- mobile, bank card, names ---------------------------------------------------
def validate_mobile(value) -> str:
    """Mainland mobile: 11 digits starting 13–19.

    Raises:
        ValidationError: anything else.
    """
    phone = normalize_text(value).replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _DIGITS11.fullmatch(phone):
        raise ValidationError("手机号应为11位数字")
    if not _MOBILE.fullmatch(phone):
        raise ValidationError("手机号号段不正确，应以13-19开头")
    return phone


def normalize_citizen_card(value) -> str:
    """市民卡号: 6 to 32 ASCII letters or digits, spaces dropped, upper case ("" when blank).

    Raises:
        ValidationError: anything else.
    """
    card = normalize_text(value).upper().replace(" ", "")
    if card and not (card.isascii() and card.isalnum() and 6 <= len(card) <= 32):
        raise ValidationError("市民卡号须为 6 至 32 位数字或字母")
    return card


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate_bank_card(value) -> str:
    """Bank card number: 12–19 digits passing the Luhn check.

    Raises:
        ValidationError: wrong length or Luhn failure.
    """
    card = normalize_text(value).replace(" ", "")
    if not re.fullmatch(r"\d{12,19}", card):
        raise ValidationError("银行卡号应为12至19位数字")
    if not luhn_ok(card):
        raise ValidationError("银行卡号校验不通过，请核对")
    return card


_NAME_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{1,}(?:[·•][\u3400-\u9fff]{1,})*")


def validate_chinese_name(value) -> str:
    """A Chinese personal name: 2–20 Han characters, minority names joined with ·.

    Raises:
        ValidationError: empty, too long, digits or Latin letters.
    """
    name = normalize_text(value).replace("•", "·").replace(" ", "")
    if not name:
        raise ValidationError("姓名不能为空")
    if len(name) < 2 or len(name) > 20:
        raise ValidationError("姓名应为2至20个汉字")
    if not _NAME_RE.fullmatch(name):
        raise ValidationError("姓名只能包含汉字，少数民族姓名可用“·”分隔")
    return name


# --- passwords ------------------------------------------------------------------
def check_password_policy(password: str) -> None:
    """At least 10 characters from at least 3 of: lower, upper, digit, symbol.

    Raises:
        ValidationError: the policy is not met.
    """
    password = password or ""
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")
    )
    if len(password) < 10 or classes < 3:
        raise ValidationError("密码至少10位，且须包含大写字母、小写字母、数字、符号中的至少三类")


def password_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: FAB's form validator turns this error into a form error.

    Raises:
        PasswordComplexityValidationError: the policy is not met (Chinese message).
    """
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    try:
        check_password_policy(password)
    except ValidationError as err:
        raise PasswordComplexityValidationError(str(err)) from None
