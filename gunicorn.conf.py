"""gunicorn settings (production and bench/claims.py): ``gunicorn -c gunicorn.conf.py app.wsgi:app``.

The app is loaded once in the master and its objects frozen out of the garbage collector's
reach before the workers fork: shared pages stay shared and no worker spends a full
collection walking the framework's objects in the middle of a request.
"""
import gc
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
preload_app = True

if os.environ.get("APP_ENV") == "production":
    # gunicorn's own error and access lines as JSON objects too, like the application's
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.json_logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def pre_fork(_server, _worker):
    gc.freeze()


def post_fork(server, _worker):
    from app.extensions import db

    with server.app.wsgi().app_context():
        db.engine.dispose(close=False)  # no connection opened by the master is shared with a worker
