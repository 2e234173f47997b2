"""Celery tasks: take ids, run in the app context, call one service, safe to run twice.

Job tasks are acknowledged late and rejected (requeued) when their process dies, so a killed
child's job is delivered again; a database fault is retried with this try's lease token so the
retry resumes the job at once (the sweeper covers a retry that never comes).
"""
from celery import shared_task
from flask import current_app

from app.extensions import db

JOB_TASK = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": None}


@shared_task(name="app.ping")
def ping() -> str:
    """Liveness probe for the worker."""
    return "pong"


@shared_task(name="app.connection_owner", acks_late=False, ignore_result=False)
def connection_owner() -> dict:
    """Diagnostics: this process's pid and the pid that opened its database connection (both
    must be equal: a forked child never uses its parent's connection)."""
    import os

    from sqlalchemy import text

    try:
        name = db.session.scalar(text("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"))
        return {"pid": os.getpid(), "opened_by": int(name.rpartition(":")[2])}
    finally:
        db.session.remove()


def _run_job(task, run, job_id: int, resume: str | None) -> None:
    from app.services import jobs

    token = jobs.new_token()
    try:
        run(job_id, token=token, resume=resume)
    except jobs.TRANSIENT_DB_ERRORS:
        if task.request.is_eager:
            raise
        raise task.retry(kwargs={"job_id": job_id, "resume": token},
                         countdown=current_app.config["JOB_RETRY_SECONDS"]) from None
    finally:
        db.session.remove()


@shared_task(name="imports.run", **JOB_TASK)
def run_import(self, job_id: int, resume: str | None = None) -> None:
    from app.services import imports

    batch = current_app.config["IMPORT_BATCH_ROWS"]
    _run_job(self, lambda *a, **k: imports.run_import(db.session, *a, batch_size=batch, **k), job_id, resume)


@shared_task(name="exports.run", **JOB_TASK)
def run_export(self, job_id: int, resume: str | None = None) -> None:
    from app.services import exports

    _run_job(self, exports.run_export, job_id, resume)


@shared_task(name="jobs.sweep")
def sweep_jobs() -> dict:
    """Scheduled (beat, every JOB_SWEEP_SECONDS) and at worker start: nothing stays stuck."""
    from app.services import jobs

    try:
        return jobs.sweep(db.session)
    finally:
        db.session.remove()


@shared_task(name="files.retention")
def apply_retention() -> dict:
    """Scheduled (beat, every RETENTION_SECONDS): old and orphaned files go."""
    from app.services import retention

    try:
        return retention.apply_retention(db.session)
    finally:
        db.session.remove()


@shared_task(name="audit.seal")
def seal_audit_log() -> int:
    """Scheduled (beat, every AUDIT_SEAL_SECONDS): new audit rows join the hash chain."""
    from app.services import audit_chain

    try:
        return audit_chain.seal(db.session)
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


@shared_task(name="recuperation.announce_window")
def announce_recuperation_window() -> int:
    """Scheduled (beat, every 10 min): on the opening day the members are told once that declarations are open."""
    from app.services.recuperation import notifications

    try:
        return notifications.announce_window(db.session)
    finally:
        db.session.remove()


@shared_task(name="recuperation.advance_travel")
def advance_travel() -> int:
    """Scheduled (beat, every 10 min): plans whose first day has come (Beijing) → 出行中, past → 已完成."""
    from app.services.recuperation import declarations

    try:
        return declarations.advance_travel(db.session)
    finally:
        db.session.remove()
