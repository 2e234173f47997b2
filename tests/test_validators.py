"""The pure validators: every rule and its Chinese message."""
from datetime import date

import pytest

from app.validators import (
    ValidationError,
    check_password_policy,
    luhn_ok,
    parse_resident_id,
    resident_id_check_char,
    validate_bank_card,
    validate_chinese_name,
    validate_mobile,
    validate_uscc,
)

GOOD_ID = "11010519491231002X"  # the GB 11643 example: female, 1949-12-31


def test_parse_resident_id_valid_derives_birth_and_gender():
    rid = parse_resident_id(GOOD_ID)
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.gender == "female"
    male = "11010519800101001" + resident_id_check_char("11010519800101001")
    assert parse_resident_id(male).gender == "male"


def test_parse_resident_id_normalizes_lowercase_x_fullwidth_and_blanks():
    assert parse_resident_id(" １１０１０５１９４９１２３１００２x ").number == GOOD_ID


@pytest.mark.parametrize("value, message", [
    ("110105194912310021", "校验位"),
    ("110105194902300026", "出生日期不存在"),
    ("11010519491231002", "应为18位"),
    ("1101051949123100AX", "前17位"),
    ("1.10105194912310E+17", "科学计数法"),
    ("110105290012310028", "不合理"),
])
def test_parse_resident_id_invalid_gives_chinese_message(value, message):
    with pytest.raises(ValidationError, match=message):
        parse_resident_id(value)


def test_validate_uscc_accepts_real_code_and_rejects_bad_check():
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(ValidationError, match="校验位"):
        validate_uscc("91350100M000100Y44")
    with pytest.raises(ValidationError, match="不允许的字符"):
        validate_uscc("91350100M000100I43")
    with pytest.raises(ValidationError, match="18位"):
        validate_uscc("9135010")


@pytest.mark.parametrize("value", ["13800138000", "+86 138 0013 8000", "１３８００１３８０００"])
def test_validate_mobile_normalizes(value):
    assert validate_mobile(value) == "13800138000"


@pytest.mark.parametrize("value, message", [("1380013800", "11位"), ("12800138000", "号段"), ("abc", "11位")])
def test_validate_mobile_rejects(value, message):
    with pytest.raises(ValidationError, match=message):
        validate_mobile(value)


def test_bank_card_luhn():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111121")
    assert validate_bank_card("4111 1111 1111 1111") == "4111111111111111"
    with pytest.raises(ValidationError, match="校验不通过"):
        validate_bank_card("4111111111111112")
    with pytest.raises(ValidationError, match="12至19位"):
        validate_bank_card("12345")


def test_chinese_name_rules():
    assert validate_chinese_name(" 张三 ") == "张三"
    assert validate_chinese_name("买买提•艾力") == "买买提·艾力"
    for bad, message in [("", "不能为空"), ("张", "2至20"), ("Tom", "只能包含汉字"), ("张3", "只能包含汉字")]:
        with pytest.raises(ValidationError, match=message):
            validate_chinese_name(bad)


@pytest.mark.parametrize("password, ok", [
    ("Union@2026demo", True), ("abcdefghij1A", True), ("short1A!", False),
    ("alllowercase1", False), ("ALLUPPER123", False), ("abcDEF!@#$", True),
])
def test_password_policy(password, ok):
    if ok:
        check_password_policy(password)
    else:
        with pytest.raises(ValidationError, match="至少10位"):
            check_password_policy(password)
