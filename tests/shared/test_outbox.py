"""SMS and mail outboxes: one row per event, the sender claims each row once, retries with
backoff and gives up after the last try; real gateways never keep secrets in the table."""
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from app.services import outbox
from app.services.errors import DomainError
from models.base import utcnow
from models.outbox import MailMessage, OutboxStatus, SmsMessage

SENT: list = []


class RecordingGateway:
    records_text = False

    def send(self, *args):
        SENT.append(args)


class FailingGateway:
    def send(self, *args):
        raise ConnectionError("网关不可用")


@pytest.fixture()
def gateway(app):
    def use(path):
        app.config["SMS_GATEWAY"] = app.config["MAIL_GATEWAY"] = path

    yield use
    app.config["SMS_GATEWAY"] = app.config["MAIL_GATEWAY"] = "app.services.outbox.OutboxOnlyGateway"
    SENT.clear()


def _pending_elsewhere_sent(session):
    # rows other tests left pending must not interfere with the counts here
    session.execute(SmsMessage.__table__.update().where(SmsMessage.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENT))
    session.execute(MailMessage.__table__.update().where(MailMessage.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENT))
    session.commit()


def test_queue_sms_fills_the_template_and_commits_with_the_caller(ctx):
    outbox.queue_sms(ctx, "13800000001", "registration_rejected", {"unit": "某某公司", "reason": "执照模糊"})
    ctx.rollback()
    assert ctx.scalar(select(SmsMessage).where(SmsMessage.phone == "13800000001")) is None
    message = outbox.queue_sms(ctx, "13800000001", "registration_rejected", {"unit": "某某公司", "reason": "执照模糊"})
    ctx.commit()
    assert message.text == "【工会服务】某某公司的会员单位注册未通过审核，原因：执照模糊。请修改后重新提交。"
    assert message.status_label == "待发送"


def test_queue_refuses_unknown_templates_and_missing_params(ctx):
    with pytest.raises(DomainError, match="未知的短信模板"):
        outbox.queue_sms(ctx, "13800000001", "nope")
    with pytest.raises(DomainError, match="参数不完整"):
        outbox.queue_sms(ctx, "13800000001", "registration_rejected", {"unit": "x"})


def test_default_gateway_keeps_the_text_and_marks_sent(ctx, gateway):
    _pending_elsewhere_sent(ctx)
    message = outbox.queue_sms(ctx, "13800000002", "verification_code", {"purpose": "单位注册", "code": "123456"})
    ctx.commit()
    assert outbox.deliver_pending(ctx, SmsMessage) == {"sent": 1, "retried": 0, "failed": 0}
    ctx.refresh(message)
    assert message.status == OutboxStatus.SENT and "123456" in message.text and message.attempts == 1


def test_real_gateway_receives_the_text_and_the_secret_is_hidden_afterwards(ctx, gateway):
    _pending_elsewhere_sent(ctx)
    gateway("tests.shared.test_outbox.RecordingGateway")
    message = outbox.queue_sms(ctx, "13800000003", "verification_code", {"purpose": "找回密码", "code": "654321"})
    ctx.commit()
    outbox.deliver_pending(ctx, SmsMessage)
    assert SENT == [("13800000003", message.text.replace("******", "654321"))]
    ctx.refresh(message)
    assert "654321" not in message.text and "******" in message.text and message.params["code"] == "******"


def test_a_second_run_sends_nothing_twice(ctx, gateway):
    _pending_elsewhere_sent(ctx)
    gateway("tests.shared.test_outbox.RecordingGateway")
    outbox.queue_sms(ctx, "13800000004", "password_reset", {"username": "zhangsan"})
    ctx.commit()
    outbox.deliver_pending(ctx, SmsMessage)
    outbox.deliver_pending(ctx, SmsMessage)
    assert len(SENT) == 1


def test_failures_are_retried_with_backoff_then_given_up(ctx, gateway):
    _pending_elsewhere_sent(ctx)
    gateway("tests.shared.test_outbox.FailingGateway")
    message = outbox.queue_sms(ctx, "13800000005", "password_reset", {"username": "lisi"})
    ctx.commit()
    assert outbox.deliver_pending(ctx, SmsMessage)["retried"] == 1
    ctx.refresh(message)
    assert message.status == OutboxStatus.PENDING and "网关不可用" in message.last_error
    assert message.next_try_at > utcnow() + timedelta(seconds=20)
    assert outbox.deliver_pending(ctx, SmsMessage)["retried"] == 0  # not due yet
    for _ in range(current_app.config["OUTBOX_MAX_ATTEMPTS"] - 1):
        message.next_try_at = utcnow() - timedelta(seconds=1)
        ctx.commit()
        outbox.deliver_pending(ctx, SmsMessage)
        ctx.refresh(message)
    assert message.status == OutboxStatus.FAILED and message.status_label == "发送失败"
    assert message.attempts == current_app.config["OUTBOX_MAX_ATTEMPTS"]


def test_mail_carries_its_attachment_to_the_gateway(ctx, gateway):
    from app.services.attachments import add_generated
    from models.organizations import Org

    _pending_elsewhere_sent(ctx)
    gateway("tests.shared.test_outbox.RecordingGateway")
    owner = ctx.scalar(select(Org).limit(1))
    pdf = add_generated(ctx, owner=owner, kind="invoice", file_name="发票.pdf", data=b"%PDF-1.4 test",
                        mime="application/pdf")
    outbox.queue_mail(ctx, "finance@unit.invalid", "invoice_issued",
                      {"number": "CB1", "unit": "某公司", "title": "某公司", "amount": "6800.00"}, attachment=pdf)
    ctx.commit()
    outbox.deliver_pending(ctx, MailMessage)
    to, subject, body, attachment = SENT[0]
    assert to == "finance@unit.invalid" and "CB1" in subject and "6800.00" in body
    assert attachment == ("发票.pdf", "application/pdf", b"%PDF-1.4 test")
