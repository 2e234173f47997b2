"""SMS and mail outboxes (I-1, I-3): a row per message, templates per event, pluggable gateways.

Services call ``queue_sms`` / ``queue_mail`` inside their own transaction (the message exists
exactly when the event does). The Celery task ``outbox.deliver`` (beat, every 20 s) hands pending
rows to the gateway: each row is claimed by a conditional update (two runs never send one row),
a failure is retried with exponential backoff, and after ``OUTBOX_MAX_ATTEMPTS`` tries the row is
发送失败 with the last error.

Gateways: ``SMS_GATEWAY`` / ``MAIL_GATEWAY`` name a class by dotted path. The default
``OutboxOnlyGateway`` sends nothing: the table is the record (the embedded demo, the tests).
``SmtpMailGateway`` sends through ``MAIL_SMTP_HOST``. A real SMS provider implements ``send``.
"""
from __future__ import annotations

import importlib
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from app.services.errors import DomainError
from app.storage import store
from models.attachments import Attachment
from models.base import utcnow
from models.outbox import MailMessage, OutboxStatus, SmsMessage

# event → text; params are filled with str.format. Secret params are hidden once a real gateway sent them.
SMS_TEMPLATES = {
    "verification_code": "【工会服务】您的{purpose}验证码为{code}，5分钟内有效。如非本人操作，请忽略本短信。",
    "account_created": "【工会服务】{name}您好，您的账户已开通。用户名：{username}，初始密码：{password}。"
                       "首次登录须修改密码，请勿将密码告知他人。",
    "registration_approved": "【工会服务】{unit}的会员单位注册已审核通过。"
                             "登录用户名：{username}，初始密码：{password}。"
                             "首次登录须修改密码。",
    "registration_rejected": "【工会服务】{unit}的会员单位注册未通过审核，原因：{reason}。请修改后重新提交。",
    "enrollment_approved": "【工会服务】{unit}的参保单{number}已通过初审，请登录系统填写开票信息并按时缴费。",
    "enrollment_returned": "【工会服务】{unit}的参保单{number}被退回，原因：{reason}。请登录系统修改后重新提交。",
    "password_reset": "【工会服务】您的账户{username}密码已重置。如非本人操作，请立即联系管理员。",
    # worker client (S001), one per event of the notifications table (mutual-aid §3.1.7)
    "subsidy_rejected": "【工会服务】您提交的“{name}”的住院医疗补助申请被驳回。驳回理由是：{reason}。"
                        "请参考驳回理由重新提交申请。",
    "subsidy_pay_failed": "【工会服务】您提交的“{name}”的住院医疗补助申请打款失败，请修正信息。",
    "subsidy_done": "【工会服务】您提交的“{name}”的住院医疗补助申请已成功办结，补助金已打款至尾号{tail}的银行卡，"
                    "请注意查收银行到账信息。补助金额：{amount}",
    "info_change_rejected": "【工会服务】您有1条变更信息申请单被驳回，驳回理由是：{reason}。请修正后重新提交。",
    "info_change_done": "【工会服务】您的个人信息变更申请{number}已审核办结。",
    "recup_submitted": "【工会服务】{name}您好，您的{year}年度疗休养计划（{type}）已上报，计划金额{total}元。"
                       "请按申报日期出行；超出参考标准的部分由本人自理。",
    "recup_returned": "【工会服务】{name}您好，您的{year}年度疗休养计划被所在工会退回，原因：{reason}。"
                      "疗休养类型不可更改，请修改后重新上报。",
    "recup_grouped": "【工会服务】{name}您好，您的{year}年度疗休养计划已加入拼团「{group}」，承办单位将与您联系。",
    "recup_group_formed": "【工会服务】{name}您好，您参加的疗休养拼团「{group}」已成团，出发日期：{starts}，"
                          "{operator}将与您联系。",
    "recup_booking_cancelled": "【工会服务】{name}您好，{base}取消了您{day}的预约「{product}」，原因：{reason}。"
                               "请修改疗休养计划另选产品。",
    "recup_complaint_answered": "【工会服务】{name}您好，您对{base}的投诉已办结，答复：{reply}",
    "recup_window_open": "【工会服务】{name}您好，{year}年度职工疗休养申报已于{opens}开放，请在{closes}前完成计划申报。",
}
MAIL_TEMPLATES = {
    "invoice_issued": ("【工会服务】参保单{number}的发票", "{unit}：\n\n参保单{number}的发票已开具，见附件。\n\n"
                       "发票抬头：{title}\n金额：{amount}元\n\n此邮件由系统自动发送，请勿回复。"),
}
SECRET_PARAMS = {"code", "password"}


class OutboxOnlyGateway:
    """Sends nothing: the outbox row is the record (embedded default)."""

    records_text = True  # the table is where the text is read: keep it

    def send(self, *args) -> None:
        return None


class SmtpMailGateway:
    """Mail through an SMTP server (``MAIL_SMTP_HOST``, ``MAIL_SMTP_PORT``, ``MAIL_FROM``)."""

    records_text = False

    def send(self, to_address: str, subject: str, body: str, attachment: tuple[str, str, bytes] | None) -> None:
        cfg = current_app.config
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = cfg["MAIL_FROM"], to_address, subject
        message.set_content(body)
        if attachment:
            name, mime, data = attachment
            maintype, subtype = mime.split("/", 1)
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        with smtplib.SMTP(cfg["MAIL_SMTP_HOST"], int(cfg.get("MAIL_SMTP_PORT", 25)), timeout=30) as smtp:
            smtp.send_message(message)


def _gateway(setting: str):
    path = current_app.config.get(setting) or "app.services.outbox.OutboxOnlyGateway"
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)()


def _fill(template: str, params: dict) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        raise DomainError("消息模板参数不完整") from None


def queue_sms(session: Session, phone: str, template_code: str, params: dict | None = None, *,
              related=None) -> SmsMessage:
    """Add one SMS to the outbox (no commit: it is sent if and only if the caller commits).

    Raises:
        DomainError: unknown template or missing parameters.
    """
    params = {k: str(v) for k, v in (params or {}).items()}
    if template_code not in SMS_TEMPLATES:
        raise DomainError("未知的短信模板")
    message = SmsMessage(phone=phone, template_code=template_code, params=params,
                         text=_fill(SMS_TEMPLATES[template_code], params)[:500], **_related(related))
    session.add(message)
    return message


def queue_mail(session: Session, to_address: str, template_code: str, params: dict | None = None, *,
               attachment: Attachment | None = None, related=None) -> MailMessage:
    """Add one e-mail to the outbox (no commit), optionally with one stored attachment.

    Raises:
        DomainError: unknown template or missing parameters.
    """
    params = {k: str(v) for k, v in (params or {}).items()}
    if template_code not in MAIL_TEMPLATES:
        raise DomainError("未知的邮件模板")
    subject, body = MAIL_TEMPLATES[template_code]
    message = MailMessage(to_address=to_address, template_code=template_code, params=params,
                          subject=_fill(subject, params)[:200], body=_fill(body, params),
                          attachment_id=getattr(attachment, "id", None), **_related(related))
    session.add(message)
    return message


def _related(related) -> dict:
    if related is None:
        return {}
    return {"related_type": related.__tablename__, "related_id": related.id}


def _redacted(message) -> str:
    text = message.text
    for key in SECRET_PARAMS & set(message.params or {}):
        text = text.replace(message.params[key], "******")
    return text


def deliver_pending(session: Session, model=SmsMessage, *, limit: int = 200) -> dict[str, int]:
    """Send the due pending rows of one outbox; safe to run twice at once.

    Returns counts of sent, retried (to be tried again later) and failed rows.
    """
    cfg = current_app.config
    gateway = _gateway("SMS_GATEWAY" if model is SmsMessage else "MAIL_GATEWAY")
    max_attempts = cfg.get("OUTBOX_MAX_ATTEMPTS", 5)
    now = utcnow()
    due = session.scalars(select(model.id).where(model.status == OutboxStatus.PENDING, model.next_try_at <= now)
                          .order_by(model.id).limit(limit)).all()
    counts = {"sent": 0, "retried": 0, "failed": 0}
    for message_id in due:
        claimed = session.execute(update(model).where(model.id == message_id, model.status == OutboxStatus.PENDING)
                                  .values(status=OutboxStatus.SENDING, attempts=model.attempts + 1)).rowcount
        session.commit()
        if not claimed:
            continue  # another run took it
        message = session.get(model, message_id)
        try:
            _send(gateway, message)
        except Exception as err:  # noqa: BLE001 - any gateway failure is recorded and retried
            message.last_error = f"{type(err).__name__}: {err}"[:500]
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED
                counts["failed"] += 1
            else:
                message.status = OutboxStatus.PENDING
                message.next_try_at = utcnow() + timedelta(seconds=30 * 2 ** (message.attempts - 1))
                counts["retried"] += 1
        else:
            message.status, message.sent_at, message.last_error = OutboxStatus.SENT, utcnow(), None
            if model is SmsMessage and not getattr(gateway, "records_text", False):
                message.text = _redacted(message)  # the provider has it: codes and passwords leave the table
                message.params = {k: ("******" if k in SECRET_PARAMS else v) for k, v in (message.params or {}).items()}
            counts["sent"] += 1
        session.commit()
    return counts


def _send(gateway, message) -> None:
    if isinstance(message, SmsMessage):
        gateway.send(message.phone, message.text)
        return
    attachment = None
    if message.attachment_id:
        stored = object_session(message).get(Attachment, message.attachment_id)
        attachment = (stored.file_name, stored.mime, store().read_bytes("attachments", stored.stored_name))
    gateway.send(message.to_address, message.subject, message.body, attachment)
