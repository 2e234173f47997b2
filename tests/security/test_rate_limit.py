"""Both login doors are rate-limited (FAB limits only the form)."""
import pytest

from tests.conftest import IsolatedClient, _config


@pytest.fixture()
def limited_app(db_url):
    from app import create_app

    application = create_app(_config(db_url, RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="3 per minute"))
    application.test_client_class = IsolatedClient
    return application


def test_api_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    codes = [client.post("/api/v1/security/login", json={
        "username": "nobody", "password": "Wrong-pass-123", "provider": "db", "refresh": False}).status_code
        for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[-1] == 429


def test_form_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    codes = [client.post("/login/", data={"username": "nobody", "password": "x"}).status_code for _ in range(5)]
    assert codes[-1] == 429
