"""Entry point for ``celery -A app.worker worker`` (prefork by default) and ``celery -A app.worker beat``.

The app (and its SQLAlchemy engine) is loaded once in the worker's main process, which then
forks its pool: every child drops the inherited pool and opens its own connections, as
``gunicorn.conf.py`` does for the web workers. The main process refreshes the worker's
heartbeat (read by /healthz) and, at start, asks for a sweep of jobs a dead worker left behind.
"""
import threading

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from app import create_app
from app.extensions import db

flask_app = create_app()
celery = flask_app.extensions["celery"]
_stop = threading.Event()


@worker_process_init.connect
def _own_connections(**_kwargs):
    with flask_app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's


def _heartbeat(name: str) -> None:
    from sqlalchemy.orm import Session

    from app.services import jobs

    interval = flask_app.config["WORKER_HEARTBEAT_SECONDS"]
    while not _stop.is_set():
        try:
            with flask_app.app_context(), Session(bind=db.engine) as session:
                jobs.record_worker_alive(session, name)
        except Exception:  # the database may be down; try again next time
            flask_app.logger.warning("worker heartbeat not recorded", exc_info=True)
        _stop.wait(interval)


@worker_ready.connect
def _on_ready(sender, **_kwargs):
    threading.Thread(target=_heartbeat, args=(sender.hostname,), name="worker-heartbeat", daemon=True).start()
    celery.send_task("jobs.sweep")


@worker_shutdown.connect
def _on_shutdown(sender, **_kwargs):
    from sqlalchemy.orm import Session

    from app.services import jobs

    _stop.set()
    try:
        with flask_app.app_context(), Session(bind=db.engine) as session:
            jobs.forget_worker(session, getattr(sender, "hostname", ""))
    except Exception:  # the row then ages out of /healthz by itself
        flask_app.logger.warning("worker heartbeat not removed", exc_info=True)
