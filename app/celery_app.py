"""Celery bound to the Flask app: every task runs inside an app context.

Embedded default: a SQLAlchemy/SQLite broker under ``instance/`` (no server to
install); production sets ``CELERY_BROKER_URL`` (Redis or RabbitMQ).
"""
from __future__ import annotations

from celery import Celery, Task


def celery_init_app(flask_app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    cfg = flask_app.config
    celery = Celery(flask_app.name, task_cls=FlaskTask, include=["app.tasks"])
    celery.conf.update(
        broker_url=cfg["CELERY_BROKER_URL"],
        result_backend=cfg["CELERY_RESULT_BACKEND"],
        task_always_eager=cfg["CELERY_TASK_ALWAYS_EAGER"],
        task_eager_propagates=True,
        task_ignore_result=True,
        # a message is acknowledged when its task ends, and put back when the process running it dies
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # sending gives up within a second when the broker is down: the job waits in the outbox
        # (DataJob.enqueued_at NULL) for the sweeper instead of holding the web request
        # (the SQLAlchemy/SQLite broker hands its transport options to create_engine, which refuses these)
        broker_transport_options={} if cfg["CELERY_BROKER_URL"].startswith("sqla+") else {
            "visibility_timeout": cfg["BROKER_VISIBILITY_TIMEOUT"], "max_retries": 1,
            "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5},
        worker_hijack_root_logger=cfg["APP_ENV"] != "production",  # production logs JSON lines (app.json_logs)
        timezone=cfg["DISPLAY_TIMEZONE"],
        beat_schedule={
            "expire-vouchers": {"task": "vouchers.expire", "schedule": 60.0},  # validity is to the minute
            "close-ended-activities": {"task": "vouchers.close_ended", "schedule": 300.0},
            "deliver-outboxes": {"task": "outbox.deliver", "schedule": 20.0},
            "settle-periods": {"task": "mutual_aid.settle_due_periods", "schedule": 600.0},
            "advance-recuperation-travel": {"task": "recuperation.advance_travel", "schedule": 600.0},
            "announce-recuperation-window": {"task": "recuperation.announce_window", "schedule": 600.0},
            "sweep-jobs": {"task": "jobs.sweep", "schedule": float(cfg["JOB_SWEEP_SECONDS"])},
            "file-retention": {"task": "files.retention", "schedule": float(cfg["RETENTION_SECONDS"])},
            "seal-audit-log": {"task": "audit.seal", "schedule": float(cfg["AUDIT_SEAL_SECONDS"])},
        },
    )
    import app.tasks  # noqa: F401  (registers the shared tasks: the web sends them by name)

    celery.set_default()
    flask_app.extensions["celery"] = celery
    return celery
