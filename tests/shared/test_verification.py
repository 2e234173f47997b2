"""Verification codes: 6 digits, hashed, 5 minutes, 5 tries, one a minute and ten a day per phone,
purpose-scoped and used once — refusals in Chinese."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import verification
from app.services.errors import DomainError
from models.base import utcnow
from models.outbox import SmsMessage
from models.verification import CodePurpose, VerificationCode

_n = iter(range(10_000))


def phone() -> str:
    return f"1390000{next(_n):04d}"


def test_a_code_is_six_digits_sent_by_sms_and_stored_hashed(ctx):
    number = phone()
    code = verification.send_code(ctx, number, CodePurpose.REGISTRATION)
    assert len(code) == 6 and code.isdigit()
    row = ctx.scalar(select(VerificationCode).where(VerificationCode.phone == number))
    assert code not in row.code_hash and len(row.code_hash) == 64
    sms = ctx.scalar(select(SmsMessage).where(SmsMessage.phone == number))
    assert code in sms.text and "单位注册" in sms.text and "5分钟" in sms.text


def test_the_right_code_is_accepted_once(ctx):
    number = phone()
    code = verification.send_code(ctx, number, CodePurpose.REGISTRATION)
    verification.check_code(ctx, number, CodePurpose.REGISTRATION, code)
    ctx.commit()
    with pytest.raises(DomainError, match="请先获取短信验证码"):
        verification.check_code(ctx, number, CodePurpose.REGISTRATION, code)


def test_a_code_of_another_purpose_is_refused(ctx):
    number = phone()
    code = verification.send_code(ctx, number, CodePurpose.REGISTRATION)
    with pytest.raises(DomainError, match="请先获取"):
        verification.check_code(ctx, number, CodePurpose.PASSWORD_RESET, code)


def test_five_wrong_tries_lock_the_code_even_the_right_one_after(ctx):
    number = phone()
    code = verification.send_code(ctx, number, CodePurpose.REGISTRATION)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    messages = []
    for _ in range(5):
        with pytest.raises(DomainError) as err:
            verification.check_code(ctx, number, CodePurpose.REGISTRATION, wrong)
        messages.append(err.value.message)
    assert messages[0] == "验证码不正确，还可尝试4次" and messages[-1] == "验证码错误次数过多，请重新获取"
    with pytest.raises(DomainError, match="错误次数过多"):
        verification.check_code(ctx, number, CodePurpose.REGISTRATION, code)


def test_an_expired_code_is_refused(ctx):
    number = phone()
    sent_at = utcnow() - timedelta(minutes=6)
    code = verification.send_code(ctx, number, CodePurpose.BINDING, now=sent_at)
    with pytest.raises(DomainError, match="已过期"):
        verification.check_code(ctx, number, CodePurpose.BINDING, code)
    verification.check_code(ctx, number, CodePurpose.BINDING, code, now=sent_at + timedelta(minutes=4, seconds=59))


def test_one_code_a_minute_per_phone(ctx):
    number = phone()
    start = utcnow() - timedelta(hours=1)
    verification.send_code(ctx, number, CodePurpose.REGISTRATION, now=start)
    with pytest.raises(DomainError, match="发送过于频繁，请30秒后再试") as err:
        verification.send_code(ctx, number, CodePurpose.PASSWORD_RESET, now=start + timedelta(seconds=30))
    assert err.value.code == "code_too_soon"
    verification.send_code(ctx, number, CodePurpose.REGISTRATION, now=start + timedelta(seconds=61))


def test_ten_codes_a_beijing_day_per_phone(ctx):
    number = phone()
    from models.base import DISPLAY_TZ

    morning = (utcnow().astimezone(DISPLAY_TZ) - timedelta(days=2)).replace(hour=0, minute=30)
    for i in range(10):
        verification.send_code(ctx, number, CodePurpose.REGISTRATION, now=morning + timedelta(minutes=2 * i))
    with pytest.raises(DomainError, match="今日获取验证码已达10次") as err:
        verification.send_code(ctx, number, CodePurpose.REGISTRATION, now=morning + timedelta(hours=20))
    assert err.value.code == "code_daily_limit"
    # 00:30 Beijing the next day is a new day (it is still the same UTC day)
    verification.send_code(ctx, number, CodePurpose.REGISTRATION, now=morning + timedelta(days=1))


def test_a_bad_mobile_is_refused_in_chinese(ctx):
    with pytest.raises(DomainError, match="手机号应为11位数字"):
        verification.send_code(ctx, "12345", CodePurpose.REGISTRATION)
