"""Shared fixtures: one app and database per test session (SQLite file by default,
``DATABASE_URL`` for PostgreSQL), seeded with the small demo tree; a logged-in
client per role."""
from __future__ import annotations

import os
import re

import pytest

from app.database import reset_postgres_schema, sibling_database_url
from app.testing import IsolatedClient
from seed.loader import DEMO_PASSWORD

TEST_MEMBERS = 120


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith("postgresql"):
        worker = os.environ.get("PYTEST_XDIST_WORKER")  # pytest -n: each worker its own database
        return reset_postgres_schema(sibling_database_url(url, worker) if worker else url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


FILE_DIR = None


def _config(url: str, **extra) -> dict:
    return {
        "FILE_DIR": FILE_DIR,
        "APP_ENV": "testing",
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "CELERY_TASK_ALWAYS_EAGER": True,
        "SERVER_NAME": None,
        # the same hashing code with a cheap cost: the suite logs in about a thousand times, and
        # scrypt's deliberate 0.12 s per check was minutes of CI (production keeps scrypt)
        "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    global FILE_DIR
    FILE_DIR = str(tmp_path_factory.mktemp("files"))
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(db_url):
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from seed.loader import seed_demo

    application = create_app(_config(db_url))
    application.test_client_class = IsolatedClient
    with application.app_context():
        init_db(from_models=True)  # the migrations are checked against the models in tests/durability
        seed_demo(db.session, members=TEST_MEMBERS)
    return application


@pytest.fixture(scope="session")
def csrf_app(app, db_url):
    """The same database behind an app that enforces CSRF like production."""
    from app import create_app

    application = create_app(_config(db_url, WTF_CSRF_ENABLED=True))
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture()
def ctx(app):
    from app.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()


def login(client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/login/", data={"username": username, "password": password})


@pytest.fixture()
def client_as(app):
    """``client_as("county_admin")`` → a test client logged in as that demo account."""

    def make(username: str):
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302 and "/login" not in response.headers["Location"], username
        return client

    return make


def csrf_token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no csrf token on {url}"
    return match.group(1)
