"""A test client for tests and benchmarks that push one app context around many requests."""
from __future__ import annotations

from flask import g, has_app_context
from flask.testing import FlaskClient


class IsolatedClient(FlaskClient):
    """A test client whose requests don't inherit the previous request's user.

    Requests reuse an app context the caller has pushed (the tests' ``ctx`` fixture,
    a benchmark's set-up), and Flask-Login caches the loaded user in ``g``;
    production has one context per request, so clear what a request would have
    started without (else a second client is served as the first one's user).
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("_login_user", "user", "_org_paths", "list_count_capped", "_permission_cache",
                        "_jwt_extended_jwt", "_jwt_extended_jwt_header", "_jwt_extended_jwt_user"):
                g.pop(key, None)
        return super().open(*args, **kwargs)
