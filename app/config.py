"""Configuration: defaults for the embedded demo, overridden by environment variables.

The secret key never has a default: every entry point (gunicorn's ``app.wsgi``, the Celery
``app.worker``, the ``flask`` CLI, ``create_app()``) refuses to start without ``SECRET_KEY``.
Only ``python run.py`` (the demo) may start without one: it keeps a random key generated once
under ``instance/`` (:func:`instance_secret_key`). Tests and bench scripts pass their config in
code (``APP_ENV: testing``) and get a random key for the process.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from app.validators import password_validator

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))
MIN_SECRET_KEY_LENGTH = 32
# the constant this file once shipped as a fallback: anyone can forge sessions with it
_KNOWN_KEYS = {"dev-only-insecure-key-never-use-in-production"}
_PROCESS_TEST_KEY = secrets.token_urlsafe(48)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def default_config() -> dict:
    """Return the configuration dict for the current environment."""
    env = os.environ.get("APP_ENV", "development")
    return {
        "APP_ENV": env,
        "APP_NAME": "工会服务管理后台",
        "SECRET_KEY": os.environ.get("SECRET_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'union.db'}"
        ),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # a connection is checked before use: the first request after a database restart succeeds
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CELERY_BROKER_URL": os.environ.get(
            "CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE_DIR / 'celery-broker.db'}"
        ),
        # tasks report through their job rows, not Celery results: no result backend by default
        "CELERY_RESULT_BACKEND": os.environ.get("CELERY_RESULT_BACKEND"),
        "CELERY_TASK_ALWAYS_EAGER": os.environ.get("CELERY_TASK_ALWAYS_EAGER") == "1",
        # Redis redelivers a message not acknowledged within this time: longer than any job (late
        # acknowledgement), so a running job is never delivered twice; lost workers are the sweeper's
        "BROKER_VISIBILITY_TIMEOUT": _env_int("BROKER_VISIBILITY_TIMEOUT", 6 * 3600),
        # --- jobs (采集任务): heartbeat, sweeper, retries ---
        "JOB_STALE_SECONDS": _env_int("JOB_STALE_SECONDS", 300),       # a running job silent this long is abandoned
        "JOB_SWEEP_SECONDS": _env_int("JOB_SWEEP_SECONDS", 60),        # beat: how often the sweeper runs
        "JOB_RESEND_SECONDS": _env_int("JOB_RESEND_SECONDS", 900),     # a queued job not started: sent again
        "JOB_MAX_ATTEMPTS": _env_int("JOB_MAX_ATTEMPTS", 3),           # runs of one job before it is given up
        "JOB_RETRY_SECONDS": _env_int("JOB_RETRY_SECONDS", 30),        # database unreachable: retry after
        "IMPORT_BATCH_ROWS": _env_int("IMPORT_BATCH_ROWS", 20000),     # rows committed together
        "WORKER_HEARTBEAT_SECONDS": _env_int("WORKER_HEARTBEAT_SECONDS", 30),
        # --- Flask-AppBuilder ---
        "FAB_API_SWAGGER_UI": True,
        "FAB_UPDATE_PERMS": os.environ.get("FAB_UPDATE_PERMS", "1") == "1",
        # permissions are defined in permissions.yaml, not edited in the UI: no such pages at all
        "FAB_ADD_SECURITY_PERMISSION_VIEW": False,
        "FAB_ADD_SECURITY_VIEW_MENU_VIEW": False,
        "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW": False,
        "FAB_CREATE_DB": False,  # the schema comes from Alembic migrations (flask db upgrade)
        "FAB_SECURITY_MANAGER_CLASS": "app.security_manager.UnionSecurityManager",
        "FAB_INDEX_VIEW": "views.home.HomeView",
        # The admin role FAB insists on is a builtin role with no permission at all:
        # every real role comes from permissions.yaml (separation of duties).
        "AUTH_ROLE_ADMIN": "_fab_admin_unused",
        "AUTH_ROLE_PUBLIC": "Public",
        "FAB_ROLES": {"_fab_admin_unused": []},
        "AUTH_TYPE": 1,  # AUTH_DB
        "AUTH_USER_REGISTRATION": False,
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": password_validator,  # FAB calls it: a callable, not a dotted name
        "AUTH_RATE_LIMITED": True,
        "AUTH_RATE_LIMIT": "20 per minute",
        "RATELIMIT_ENABLED": os.environ.get("RATELIMIT_ENABLED", "1") == "1",
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Redis down: count per process instead of refusing every login
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # --- login hardening (ours) ---
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _env_int("LOGIN_LOCK_MINUTES", 30),
        "SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 15),
        # a role's grants are re-read at most this often per process (they change only by sync)
        "PERMISSION_CACHE_SECONDS": _env_int("PERMISSION_CACHE_SECONDS", 30),
        # an API token's account (with its roles) is re-read at most this often per process; changes
        # made through the same process apply at once (app/caches.py); 0 = every request
        "USER_CACHE_SECONDS": _env_int("USER_CACHE_SECONDS", 3),
        # the year's 疗休养 policy (read by every declaration), the same way
        "POLICY_CACHE_SECONDS": _env_int("POLICY_CACHE_SECONDS", 3),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        # API tokens: access tokens are short; refresh tokens live a week at most, and both die
        # with the account's session epoch (logout, password change, lockout, deactivation)
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_env_int("JWT_ACCESS_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=min(_env_int("JWT_REFRESH_DAYS", 7), 7)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # --- i18n ---
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "app" / "translations"),  # layered over FAB's
        "LANGUAGES": {
            "zh": {"flag": "cn", "name": "中文"},
            "en": {"flag": "gb", "name": "English"},
        },
        "DISPLAY_TIMEZONE": "Asia/Shanghai",
        # Lists count at most this many rows (shown as "N+"): a COUNT(*) over a
        # million-row scope would otherwise dominate every page.
        "LIST_COUNT_CAP": _env_int("LIST_COUNT_CAP", 10000),
        # the home page's charts (grouped counts over the scope) are recomputed at most this often
        "HOME_FIGURES_SECONDS": _env_int("HOME_FIGURES_SECONDS", 60),
        "FILE_DIR": os.environ.get("FILE_DIR", str(INSTANCE_DIR / "files")),  # local store; scratch files
        # where stored files live: "local" (FILE_DIR) or "s3" (an S3-compatible bucket, for several hosts)
        "FILE_STORE": os.environ.get("FILE_STORE", "local"),
        "S3_BUCKET": os.environ.get("S3_BUCKET"),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL"),   # MinIO, Ceph, OSS, COS…; AWS when unset
        "S3_REGION": os.environ.get("S3_REGION"),
        "S3_PREFIX": os.environ.get("S3_PREFIX", ""),
        # uploads, exports and results are refused below this much free space (0: never)
        "FILE_MIN_FREE_MB": _env_int("FILE_MIN_FREE_MB", 512),
        # days a stored file is kept (None: as long as a row references it); the audit log is never touched
        "RETENTION_DAYS": {
            "uploads": _env_int("RETENTION_UPLOADS_DAYS", 90),
            "results": _env_int("RETENTION_RESULTS_DAYS", 7),
            "exports": _env_int("RETENTION_EXPORTS_DAYS", 7),
            "images": None,
            "attachments": None,
        },
        "ORPHAN_GRACE_HOURS": _env_int("ORPHAN_GRACE_HOURS", 24),  # an unreferenced file younger than this stays
        "RETENTION_SECONDS": _env_int("RETENTION_SECONDS", 3600),   # beat: how often retention runs
        # --- audit log hash chain ---
        "AUDIT_SEAL_SECONDS": _env_int("AUDIT_SEAL_SECONDS", 60),   # beat: new rows are chained this often
        # HMAC key of the chain: keep it outside the database so an owner cannot recompute the chain
        "AUDIT_CHAIN_KEY": os.environ.get("AUDIT_CHAIN_KEY", ""),
        "HEALTH_WORKER_MAX_AGE": _env_int("HEALTH_WORKER_MAX_AGE", 120),  # /healthz: a worker heard from since
        "IMPORT_MAX_BYTES": _env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024),
        "IMPORT_MAX_ROWS": _env_int("IMPORT_MAX_ROWS", 1_000_000),  # data rows of one import file
        # address space the forked sheet reader may map beyond what it inherits (a hostile sheet fails its job)
        "IMPORT_PARSE_MEMORY_MB": _env_int("IMPORT_PARSE_MEMORY_MB", 1024),
        # the largest request body read at all (the largest upload plus the form); beyond: 413, unread
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH",
                                      _env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024) + 4 * 1024 * 1024),
        "IMAGE_MAX_BYTES": _env_int("IMAGE_MAX_BYTES", 5 * 1024 * 1024),  # licences, logos, covers
        "IMAGE_MAX_SIDE": _env_int("IMAGE_MAX_SIDE", 2000),  # larger pictures are scaled down
        "EXPORT_SYNC_MAX_ROWS": _env_int("EXPORT_SYNC_MAX_ROWS", 5000),
        # A-24 birthday-cake activities: born in the claim's month, or in a month the activity touches
        "BIRTHDAY_MONTH_RULE": os.environ.get("BIRTHDAY_MONTH_RULE", "claim_month"),  # | activity_window
        # --- shared services (outboxes, attachments, PDFs, numbers) ---
        "SMS_GATEWAY": os.environ.get("SMS_GATEWAY", "app.services.outbox.OutboxOnlyGateway"),
        "MAIL_GATEWAY": os.environ.get("MAIL_GATEWAY", "app.services.outbox.OutboxOnlyGateway"),
        "MAIL_SMTP_HOST": os.environ.get("MAIL_SMTP_HOST", ""),
        "MAIL_SMTP_PORT": _env_int("MAIL_SMTP_PORT", 25),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "noreply@union.invalid"),
        "OUTBOX_MAX_ATTEMPTS": _env_int("OUTBOX_MAX_ATTEMPTS", 5),
        "ATTACHMENT_MAX_BYTES": _env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        "PDF_FONT": os.environ.get("PDF_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        "PDF_FONT_INDEX": _env_int("PDF_FONT_INDEX", 2),  # Noto Sans CJK SC in Debian's collection
        "NUMBER_LETTER_DEFAULT": os.environ.get("NUMBER_LETTER_DEFAULT", "L"),  # ZY…L… (S001:L62)
        "NUMBER_LETTERS": {},  # county code (3 digits) -> letter of its ZY numbers
        # --- mutual aid ---
        "SETTLEMENT_DAY": _env_int("SETTLEMENT_DAY", 25),  # 每月25日为结算日 (S004:L14), Beijing, 1–28
        "PUBLIC_RATE_LIMIT": os.environ.get("PUBLIC_RATE_LIMIT", "30 per hour"),  # anonymous forms per IP
        # --- service cards ---
        # the city federation's share of the coverage fee (S002:L61 names no split): the rest is the unions'
        "CARD_FEE_CITY_SHARE": os.environ.get("CARD_FEE_CITY_SHARE", "0.50"),
        "CARD_CLAIM_ESTABLISHED_DAYS": _env_int("CARD_CLAIM_ESTABLISHED_DAYS", 180),
        "permissions_file": str(BASE_DIR / "permissions.yaml"),
    }


class InsecureConfigError(RuntimeError):
    """Raised when the app would start without a real SECRET_KEY."""


def apply_config(config: dict, explicit: dict | None) -> None:
    """Overlay the explicit config; a test/bench config in code gets a random key for the process."""
    config.update(explicit or {})
    if explicit and explicit.get("APP_ENV") == "testing" and not explicit.get("SECRET_KEY"):
        config["SECRET_KEY"] = _PROCESS_TEST_KEY


def check_config(config: dict) -> None:
    """Refuse to run without a real secret key: none, a short one, or a published one.

    Raises:
        InsecureConfigError: with the way to set one.
    """
    key = config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH or key in _KNOWN_KEYS:
        raise InsecureConfigError(
            f"SECRET_KEY is {'too short or a published value' if key else 'not set'}: set the environment "
            f"variable SECRET_KEY to a random value of at least {MIN_SECRET_KEY_LENGTH} characters, e.g. "
            "export SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(48))')\" "
            "(the same value on every web and worker host). Only `python run.py` generates one by itself."
        )


def instance_secret_key(path: Path | None = None) -> str:
    """The demo's key: generated once, kept in ``instance/secret_key`` readable by its owner only (0600)."""
    path = Path(path or INSTANCE_DIR / "secret_key")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= MIN_SECRET_KEY_LENGTH:
            return key
        path.unlink()  # an empty or truncated file from an interrupted first start
        return instance_secret_key(path)
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
