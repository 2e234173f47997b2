"""Celery tasks: take ids, run in the app context, call one service, safe to run twice."""
from celery import shared_task

from app.extensions import db


@shared_task(name="app.ping")
def ping() -> str:
    """Liveness probe for the worker."""
    return "pong"


@shared_task(name="imports.run", acks_late=True)
def run_import(job_id: int) -> None:
    from app.services import imports

    try:
        imports.run_import(db.session, job_id)
    finally:
        db.session.remove()


@shared_task(name="exports.run", acks_late=True)
def run_export(job_id: int) -> None:
    from app.services import exports

    try:
        exports.run_export(job_id)
    finally:
        db.session.remove()


@shared_task(name="vouchers.expire")
def expire_vouchers() -> int:
    """Scheduled (beat, every minute): vouchers past their expiry time (the coupon's valid-to) become 已过期."""
    from app.services import vouchers

    return vouchers.expire_vouchers(db.session)


@shared_task(name="vouchers.close_ended")
def close_ended_activities() -> int:
    """Scheduled (beat, every 5 minutes): open activities past their end are closed."""
    from app.services import vouchers

    return vouchers.close_ended_activities(db.session)


@shared_task(name="outbox.deliver")
def deliver_outboxes() -> dict:
    """Scheduled (beat, every 20 s): pending SMS and e-mails to their gateways, with retry."""
    from app.services import outbox
    from models.outbox import MailMessage, SmsMessage

    try:
        return {"sms": outbox.deliver_pending(db.session, SmsMessage),
                "mail": outbox.deliver_pending(db.session, MailMessage)}
    finally:
        db.session.remove()


@shared_task(name="mutual_aid.settle_due_periods")
def settle_due_periods() -> int:
    """Scheduled (beat, every 10 min): settlement periods past their day's 24:00 (Beijing) are settled."""
    from app.services.mutual_aid import invoicing

    try:
        return invoicing.settle_due_periods(db.session)
    finally:
        db.session.remove()
