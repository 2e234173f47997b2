"""会员单位注册 (R-1, A-25, A-26): public registration proven by SMS, the office's review, the
account with a pinyin username and a one-time password, rejection and resubmission."""
import pytest
from sqlalchemy import select

from app.services.errors import DomainError, InvalidTransitionError, NotFoundError
from app.services.mutual_aid import registration
from app.services.mutual_aid.registration import RegistrationInvalidError
from app.services.review_flow import trail_of
from models.mutual_aid import MemberUnit, RegistrationStatus
from models.outbox import SmsMessage
from models.security import AppUser
from tests.factories import age_codes, county, licence_png, make_user, register_member_unit, unit_fields


def last_sms(session, phone):
    return session.scalars(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc())).first()


def test_a_registration_waits_in_the_office_pool_with_its_certificate(ctx, office):
    unit = register_member_unit(ctx, office)
    assert unit.status == RegistrationStatus.PENDING and unit.status_label == "待审核"
    from app.services.attachments import attachments_of

    assert [a.mime for a in attachments_of(ctx, unit, "certificate")] == ["image/png"]
    assert [t.action_label for t in trail_of(ctx, MemberUnit, unit.id)] == ["提交注册"]


def test_every_field_error_is_collected_in_chinese(ctx, office):
    fields = unit_fields(office, uscc="91310101MA1FL0000X", contact_mobile="123", email="nope", org_id=999999,
                         contact_name="Tom")
    with pytest.raises(RegistrationInvalidError) as err:
        registration.register_unit(ctx, fields, code="123456", certificates=[])
    errors = err.value.errors
    assert set(errors) == {"uscc", "contact_mobile", "email", "org_id", "contact_name", "certificates"}
    assert errors["uscc"] == "统一社会信用代码校验位不正确" and errors["certificates"].startswith("请上传营业执照")


def test_a_wrong_or_missing_code_registers_nothing(ctx, office):
    fields = unit_fields(office)
    with pytest.raises(DomainError, match="请先获取短信验证码"):
        registration.register_unit(ctx, fields, code="123456", certificates=[("a.png", licence_png())])
    code = registration.send_registration_code(ctx, fields["contact_mobile"])
    with pytest.raises(DomainError, match="验证码不正确"):
        registration.register_unit(ctx, fields, code=f"{(int(code) + 1) % 10**6:06d}",
                                   certificates=[("a.png", licence_png())])
    assert ctx.scalar(select(MemberUnit).where(MemberUnit.uscc == fields["uscc"])) is None


def test_a_registered_uscc_cannot_register_again(ctx, office):
    unit = register_member_unit(ctx, office)
    with pytest.raises(RegistrationInvalidError, match="正在审核中"):
        register_member_unit(ctx, office, uscc=unit.uscc)


def test_approval_creates_the_account_and_sends_username_and_one_time_password(ctx, office, office_staff):
    unit = register_member_unit(ctx, office, contact_name="欧阳娜娜")
    assert registration.proposed_username(ctx, unit) == "ouyangnana"
    registration.review_registration(ctx, unit.id, "approve", actor=office_staff)
    user = ctx.scalar(select(AppUser).where(AppUser.member_unit_id == unit.id))
    assert user.username == unit.username == "ouyangnana" and user.must_change_password
    assert [r.name for r in user.roles] == ["会员单位经办人"] and user.org_id is None
    sms = last_sms(ctx, unit.contact_mobile)
    assert "ouyangnana" in sms.text and sms.params["password"] in sms.text and unit.name in sms.text


def test_a_second_contact_of_the_same_name_gets_a_suffix(ctx, office, office_staff):
    first = register_member_unit(ctx, office, contact_name="李四")
    second = register_member_unit(ctx, office, contact_name="李四")
    registration.review_registration(ctx, first.id, "approve", actor=office_staff)
    registration.review_registration(ctx, second.id, "approve", actor=office_staff)
    assert second.username == first.username + "2"
    assert second.username in last_sms(ctx, second.contact_mobile).text


def test_rejection_needs_a_reason_sends_it_and_the_unit_resubmits(ctx, office, office_staff):
    from app.services.errors import ReasonRequiredError

    unit = register_member_unit(ctx, office)
    with pytest.raises(ReasonRequiredError):
        registration.review_registration(ctx, unit.id, "reject", actor=office_staff, reason=" ")
    ctx.rollback()
    registration.review_registration(ctx, unit.id, "reject", actor=office_staff, reason="营业执照不清晰")
    assert unit.status_label == "已驳回" and "营业执照不清晰" in last_sms(ctx, unit.contact_mobile).text
    fixed = unit_fields(office, uscc=unit.uscc, contact_mobile=unit.contact_mobile, name="改正后的单位名称有限公司")
    age_codes(ctx, unit.contact_mobile)
    code = registration.send_registration_code(ctx, unit.contact_mobile)
    again = registration.register_unit(ctx, fixed, code=code, certificates=[("清晰执照.png", licence_png())])
    assert again.id == unit.id and again.status == RegistrationStatus.PENDING and again.name == "改正后的单位名称有限公司"
    assert [t.action_label for t in trail_of(ctx, MemberUnit, unit.id)] == ["提交注册", "驳回", "重新提交"]


def test_a_resubmission_from_another_mobile_is_refused(ctx, office, office_staff):
    unit = register_member_unit(ctx, office)
    registration.review_registration(ctx, unit.id, "reject", actor=office_staff, reason="信息有误")
    with pytest.raises(RegistrationInvalidError, match="原登记的联系人手机号"):
        register_member_unit(ctx, office, uscc=unit.uscc)


def test_only_the_office_of_the_unit_reviews_it(ctx, office):
    unit = register_member_unit(ctx, office)
    stranger = make_user(ctx, "办事处业务人员", county(ctx, 1))
    with pytest.raises(NotFoundError):
        registration.review_registration(ctx, unit.id, "approve", actor=stranger)


def test_approved_twice_is_refused(ctx, office, office_staff):
    unit = register_member_unit(ctx, office)
    registration.review_registration(ctx, unit.id, "approve", actor=office_staff)
    with pytest.raises(InvalidTransitionError, match="当前状态为「已通过」"):
        registration.review_registration(ctx, unit.id, "approve", actor=office_staff)


def test_disabling_a_unit_locks_its_account_and_enabling_unlocks(ctx, office, office_staff, unit_and_handler):
    unit, handler = unit_and_handler
    registration.review_registration(ctx, unit.id, "disable", actor=office_staff, reason="单位注销")
    ctx.refresh(handler)
    assert unit.status_label == "已停用" and handler.active is False
    registration.review_registration(ctx, unit.id, "enable", actor=office_staff)
    ctx.refresh(handler)
    assert handler.active is True
