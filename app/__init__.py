"""Application factory: ``create_app(config=None)``."""
from __future__ import annotations

import logging
import os

from flask import Flask
from flask_appbuilder import AppBuilder
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import apply_config, check_config, default_config
from app.extensions import csrf, db, migrate
from app.health import register_health
from app.http_errors import register_http_errors
from app.schema import MIGRATIONS_DIR


@event.listens_for(Engine, "do_connect")
def _name_the_connection(dialect, _record, _cargs, cparams):
    # pg_stat_activity shows which process holds each connection (one per process, never shared)
    if dialect.name == "postgresql":
        cparams.setdefault("application_name", f"union:{os.getpid()}")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # LIKE 'x%' can use an index only when it is case sensitive (as on PostgreSQL).
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA case_sensitive_like = ON")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, no fsync per commit
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment-derived defaults."""
    settings = default_config()
    apply_config(settings, config)
    check_config(settings)  # no secret key, no app (before anything else): sessions and JWTs would be forgeable
    import app.services.member_import  # noqa: F401  (registers the import kind)
    import app.services.mutual_aid.persons  # noqa: F401  (registers the person-list import kind)
    import app.services.mutual_aid.payments  # noqa: F401  (registers the bank return-file import kind)
    import app.services.service_cards.applications  # noqa: F401  (card application / bank result kinds)
    import app.services.recuperation.catalog  # noqa: F401  (registers the base-product import kind)
    import app.services.recuperation.consumption  # noqa: F401  (registers the consumption import kind)
    import app.services.recuperation.frontline  # noqa: F401  (registers the 一线 roster import kind)
    import models  # noqa: F401  (registers every model before FAB initializes)
    from app.permissions import load_roles
    from app.routing import refuse_impossible_ids, repair_paging_args
    from app.security_manager import enforce_idle_timeout
    from views import register_views
    from views.accounts import enforce_password_change

    app = Flask(__name__)
    app.config.update(settings)
    if app.config["APP_ENV"] == "production":
        from app.json_logs import install_json_logging

        install_json_logging()
    for uri in (app.config["SQLALCHEMY_DATABASE_URI"], app.config["CELERY_BROKER_URL"]):
        _ensure_sqlite_dir(uri)
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    app.extensions["union_roles"] = load_roles(app.config["permissions_file"])
    appbuilder = AppBuilder(update_perms=False)  # permissions.yaml is synced by app.permissions
    with app.app_context():
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)

    _limit_api_login(app, appbuilder)
    _limit_public_forms(app, appbuilder, PUBLIC_FORMS)
    register_http_errors(app, appbuilder.sm.jwt_manager)
    app.add_url_rule("/favicon.ico", "favicon", lambda: ("", 204))  # browsers ask on every page: not a 404
    register_health(app)
    app.before_request(_refuse_nul_bytes)
    app.before_request(refuse_impossible_ids)
    app.before_request(repair_paging_args)
    app.before_request(enforce_idle_timeout)
    app.before_request(enforce_password_change)
    app.jinja_env.filters["localtime"] = _localtime

    from app.celery_app import celery_init_app
    from app.cli import register_cli

    celery_init_app(app)

    register_cli(app)
    return app


def _refuse_nul_bytes():
    """A NUL byte in a parameter is never legitimate (PostgreSQL rejects it): answer 400."""
    from flask import abort, request

    if b"%00" in request.query_string.lower() or any("\x00" in v for v in request.form.values()):
        abort(400)


def _limit_api_login(app, appbuilder) -> None:
    """FAB rate-limits only the form login: give the JWT login the same limit."""
    limiter = appbuilder.sm.limiter
    if limiter is not None and app.config.get("AUTH_RATE_LIMITED"):
        endpoint = "SecurityApi.login"
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(app.config["AUTH_RATE_LIMIT"])(
                app.view_functions[endpoint])


# anonymous forms (SMS codes, registration): POSTs limited per client address
PUBLIC_FORMS = ["AccountView.forgot_password", "RegistrationView.register", "RegistrationView.code",
                "MemberRegistrationApi.register", "MemberRegistrationApi.code",
                "MeApi.certify",  # 工会会员认证: a name + ID-number oracle unless limited
                "WorkerApi.bind", "WorkerApi.sms_code"]  # 职工绑定: limited like the login


def _limit_public_forms(app, appbuilder, endpoints) -> None:
    limiter = appbuilder.sm.limiter
    if limiter is None:
        return
    for endpoint in endpoints:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(app.config["PUBLIC_RATE_LIMIT"], methods=["POST"])(
                app.view_functions[endpoint])


def _localtime(value, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Jinja filter: an aware UTC datetime shown in Asia/Shanghai."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    from flask import current_app

    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt)


def _ensure_sqlite_dir(uri: str) -> None:
    """SQLite files (database, embedded broker) need their folder to exist."""
    for prefix in ("sqlite:///", "sqla+sqlite:///"):
        if uri and uri.startswith(prefix):
            from pathlib import Path

            Path(uri[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
