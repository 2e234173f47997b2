"""Celery bound to the Flask app: every task runs inside an app context.

Embedded default: a SQLAlchemy/SQLite broker under ``instance/`` (no server to
install); production sets ``CELERY_BROKER_URL`` (Redis or RabbitMQ).
"""
from __future__ import annotations

from celery import Celery, Task


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=["app.tasks"])
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=app.config["CELERY_RESULT_BACKEND"],
        task_always_eager=app.config["CELERY_TASK_ALWAYS_EAGER"],
        task_eager_propagates=True,
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone=app.config["DISPLAY_TIMEZONE"],
        beat_schedule={
            "expire-vouchers": {"task": "vouchers.expire", "schedule": 60.0},  # validity is to the minute
            "close-ended-activities": {"task": "vouchers.close_ended", "schedule": 300.0},
            "deliver-outboxes": {"task": "outbox.deliver", "schedule": 20.0},
            "settle-periods": {"task": "mutual_aid.settle_due_periods", "schedule": 600.0},
        },
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
