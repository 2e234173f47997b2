"""Account provisioning: pinyin usernames, a one-time password by SMS, the forced change on
every page and API until done, and 忘记密码 by SMS code."""
import pytest
from sqlalchemy import select

from app.services import accounts
from app.services.errors import DomainError
from models.outbox import SmsMessage
from models.security import AppUser
from tests.conftest import login
from tests.factories import county

_n = iter(range(1000))


def last_sms(session, phone):
    return session.scalars(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc())).first()


def test_usernames_are_the_name_in_lower_case_pinyin():
    assert accounts.pinyin_username("张三") == "zhangsan"
    assert accounts.pinyin_username("吕小红") == "lvxiaohong"
    assert accounts.pinyin_username("欧阳·娜娜") == "ouyangnana"
    assert accounts.pinyin_username("重庆") == "chongqing"  # polyphones: pypinyin reads the phrase


def test_a_taken_username_gets_a_numeric_suffix(ctx):
    from tests.factories import make_user

    make_user(ctx, "审计员", username="wangwu")
    assert accounts.unique_username(ctx, "wangwu") == "wangwu2"
    make_user(ctx, "审计员", username="wangwu2")
    assert accounts.unique_username(ctx, "wangwu") == "wangwu3"
    assert accounts.unique_username(ctx, "wangwuyi") == "wangwuyi"


def test_one_time_passwords_meet_the_policy():
    from app.validators import check_password_policy

    seen = {accounts.one_time_password() for _ in range(50)}
    assert len(seen) == 50
    for password in seen:
        check_password_policy(password)
        assert not set(password) & set("0O1lI")


def provisioned(ctx, role="业务审核员"):
    org = county(ctx, 0)
    username = f"otp{next(_n)}"
    user, password = accounts.provision_account(ctx, username=username, display_name="赵六", role_label=role,
                                                mobile="13512345678", org_id=org.id)
    ctx.commit()
    return user, password


def test_provisioning_sends_username_and_password_by_sms(ctx):
    user, password = provisioned(ctx)
    assert user.must_change_password and user.org_id and user.mobile == "13512345678"
    sms = last_sms(ctx, "13512345678")
    assert user.username in sms.text and password in sms.text and "首次登录须修改密码" in sms.text


def test_a_taken_username_or_unknown_role_is_refused(ctx):
    user, _ = provisioned(ctx)
    with pytest.raises(DomainError, match="已被使用"):
        accounts.provision_account(ctx, username=user.username, display_name="x", role_label="业务审核员",
                                   mobile="13512345678")
    with pytest.raises(DomainError, match="不存在"):
        accounts.provision_account(ctx, username="nobody1", display_name="x", role_label="无此角色",
                                   mobile="13512345678")


def test_every_page_leads_to_the_change_form_until_the_password_is_changed(app, ctx):
    user, password = provisioned(ctx)
    client = app.test_client()
    response = login(client, user.username, password)
    assert response.status_code == 302
    for path in ("/", "/memberview/list/", "/orgview/list/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    page = client.get("/account/password").get_data(as_text=True)
    assert "须先设置新密码" in page
    refused = client.post("/account/password", data={"old_password": "wrong", "password": "Abcdef@12345",
                                                     "confirm": "Abcdef@12345"}, follow_redirects=True)
    assert "原密码不正确" in refused.get_data(as_text=True)
    weak = client.post("/account/password", data={"old_password": password, "password": "short", "confirm": "short"},
                       follow_redirects=True)
    assert "密码至少10位" in weak.get_data(as_text=True)
    done = client.post("/account/password", data={"old_password": password, "password": "Neue#Pass2026",
                                                  "confirm": "Neue#Pass2026"})
    assert done.status_code == 302
    assert client.get("/orgview/list/").status_code == 200
    ctx.expire_all()
    assert ctx.get(AppUser, user.id).must_change_password is False


def test_the_api_answers_403_with_a_chinese_code_until_changed(app, ctx):
    user, password = provisioned(ctx, role="区县工会管理员")
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={"username": user.username, "password": password,
                                                        "provider": "db", "refresh": False}).get_json()["access_token"]
    response = client.get("/api/v1/member/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json() == {"code": "password_change_required",
                                   "message": "首次登录须先修改初始密码，请登录网页端修改后再试"}


def test_forgot_password_by_sms_code(app, ctx):
    user, _ = provisioned(ctx)
    user.mobile = "13612340000"
    user.must_change_password = False
    ctx.commit()
    client = app.test_client()
    client.post("/account/forgot-password", data={"step": "send", "phone": "13612340000"})
    sms = last_sms(ctx, "13612340000")
    code = sms.params["code"]
    page = client.post("/account/forgot-password", data={"step": "reset", "phone": "13612340000", "code": "000000"
                       if code != "000000" else "111111", "password": "Reset#Pass2026", "confirm": "Reset#Pass2026"},
                       follow_redirects=True).get_data(as_text=True)
    assert "验证码不正确，还可尝试4次" in page
    response = client.post("/account/forgot-password", data={"step": "reset", "phone": "13612340000", "code": code,
                                                             "password": "Reset#Pass2026", "confirm": "Reset#Pass2026"})
    assert response.status_code == 302
    fresh = app.test_client()
    assert login(fresh, user.username, "Reset#Pass2026").headers["Location"].endswith("/")


def test_forgot_password_does_not_tell_which_phones_have_accounts(app):
    client = app.test_client()
    page = client.post("/account/forgot-password", data={"step": "send", "phone": "13699990000"},
                       follow_redirects=True).get_data(as_text=True)
    assert "如该手机号已登记账户，验证码已发送" in page
