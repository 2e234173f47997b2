"""``GET /healthz`` for the load balancer: the database, the broker, a live worker.

200 when all three answer, 503 otherwise; the JSON body says which one failed. No login,
nothing written, every check bounded by a short timeout.
"""
from __future__ import annotations

import time

from flask import current_app, jsonify
from sqlalchemy import text

from app.extensions import db


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check() or {}
        ok = detail.pop("ok", True)
    except Exception as err:  # noqa: BLE001 - a failing dependency is the answer, not an error
        ok, detail = False, {"error": type(err).__name__}
    return {"ok": ok, "ms": round((time.monotonic() - started) * 1000, 1), **detail}


def _database() -> dict:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()
    return {}


def _broker() -> dict:
    with current_app.extensions["celery"].connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
    return {}


def _worker() -> dict:
    from app.services import jobs

    alive = jobs.workers_alive(db.session, current_app.config["HEALTH_WORKER_MAX_AGE"])
    db.session.rollback()
    return {"ok": alive > 0, "alive": alive}


def healthz():
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    checks["worker"] = _timed(_worker) if checks["database"]["ok"] else {"ok": False, "error": "database"}
    healthy = all(c["ok"] for c in checks.values())
    response = jsonify(status="ok" if healthy else "fail", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def register_health(app) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
