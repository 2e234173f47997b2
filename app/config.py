"""Configuration: defaults for the embedded demo, overridden by environment variables.

Outside development (``APP_ENV`` other than ``development``/``testing``) the app
refuses to start without a real ``SECRET_KEY``.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 - refused outside development


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def default_config() -> dict:
    """Return the configuration dict for the current environment."""
    env = os.environ.get("APP_ENV", "development")
    return {
        "APP_ENV": env,
        "APP_NAME": "工会服务管理后台",
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
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
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": "app.validators.password_validator",
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
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
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
        "IMAGE_MAX_BYTES": _env_int("IMAGE_MAX_BYTES", 5 * 1024 * 1024),  # licences, logos, covers
        "IMAGE_MAX_SIDE": _env_int("IMAGE_MAX_SIDE", 2000),  # larger pictures are scaled down
        "EXPORT_SYNC_MAX_ROWS": _env_int("EXPORT_SYNC_MAX_ROWS", 5000),
        "permissions_file": str(BASE_DIR / "permissions.yaml"),
    }


class InsecureConfigError(RuntimeError):
    """Raised when a non-development instance starts without a real SECRET_KEY."""


def check_config(config: dict) -> None:
    """Refuse to run outside development with the development secret."""
    if config["APP_ENV"] in ("development", "testing"):
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < 32:
        raise InsecureConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters "
            f"when APP_ENV={config['APP_ENV']}"
        )
