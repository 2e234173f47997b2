"""Celery tasks: take ids, open their own session (the app context), call one service."""
from celery import shared_task


@shared_task(name="app.ping")
def ping() -> str:
    """Liveness probe for the worker (used by run.py's start-up check and tests)."""
    return "pong"
