"""§2.7 from the attacker's side: no entry point runs on a key anyone knows.

The attack was: start the documented way (``APP_ENV`` unset), sign a session cookie for the
sysadmin with the constant from app/config.py, walk in. Now no entry point starts without a
configured key; only ``python run.py`` makes one itself, random and kept under instance/ (0600).
"""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from app.config import InsecureConfigError, check_config, default_config, instance_secret_key
from models.security import AppUser

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED_KEY = "dev-only-insecure-key-never-use-in-production"  # the constant app/config.py once shipped

_ENTRY_POINTS = r"""
import importlib, sys
from flask.cli import ScriptInfo
starts = {name: (lambda n=name: importlib.import_module(n)) for name in sys.argv[1:]}
starts["flask-cli"] = lambda: ScriptInfo(app_import_path="app.wsgi:app").load_app()  # flask --app app.wsgi:app ...
for name, start in starts.items():
    try:
        start()
        print(name, "STARTED")
    except Exception as err:
        print(name, type(err).__name__, str(err).replace("\n", " ")[:200])
"""


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "APP_ENV")}
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "INSTANCE_DIR": str(tmp_path / "instance"),
            "FILE_DIR": str(tmp_path / "files"), **extra}


def test_every_entry_point_refuses_to_start_without_a_key(tmp_path):
    result = subprocess.run([sys.executable, "-c", _ENTRY_POINTS, "app.wsgi", "app.worker", "run"], cwd=ROOT,
                            env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines()
                 if line.startswith(("app.", "run", "flask-cli")))
    assert set(lines) == {"app.wsgi", "app.worker", "run", "flask-cli"}, result.stdout + result.stderr
    for name, outcome in lines.items():
        assert outcome.startswith("InsecureConfigError") and "SECRET_KEY" in outcome, (name, outcome)
    assert not (tmp_path / "instance" / "secret_key").exists()  # importing run.py (flask --app run:app) makes no key


@pytest.mark.parametrize("key", ["", "short-key", PUBLISHED_KEY])
def test_create_app_without_explicit_config_refuses_weak_or_missing_keys(monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.delenv("APP_ENV", raising=False)
    config = default_config()
    with pytest.raises(InsecureConfigError, match="SECRET_KEY"):
        check_config(config)
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    check_config(default_config())


def test_run_py_keeps_one_random_key_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "instance" / "secret_key"
    key = instance_secret_key(path)
    assert len(key) >= 32 and key != PUBLISHED_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(path) == key  # the same key on the next start: sessions survive restarts
    path.chmod(0o644)
    assert instance_secret_key(path) == key and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")  # an interrupted first start
    assert len(instance_secret_key(path)) >= 32
    assert instance_secret_key(tmp_path / "other") != key


def test_a_session_forged_with_the_published_key_is_not_accepted(app, ctx):
    """The attacker signs ``_user_id`` of the sysadmin with the old constant."""
    sysadmin_id = ctx.scalar(select(AppUser.id).where(AppUser.username == "sysadmin"))
    epoch = ctx.scalar(select(AppUser.session_epoch).where(AppUser.id == sysadmin_id))
    forger = type("Forger", (), {"secret_key": PUBLISHED_KEY, "config": app.config})()
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    cookie = serializer.dumps({"_user_id": str(sysadmin_id), "_fresh": True, "_epoch": epoch,
                               "_last_seen": 9e9})
    attacker = app.test_client()
    attacker.set_cookie("session", cookie)
    response = attacker.get("/users/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert app.secret_key != PUBLISHED_KEY and len(app.secret_key) >= 32
