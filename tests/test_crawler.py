"""Every route × every role of permissions.yaml (and anonymous) → never a 500.

One client per role, CSRF enforced like production (real tokens, real logins; APIs with the
role's JWT). Path parameters are filled with a real id in the role's scope, a real id outside
it, an id no row has, ids beyond the database's integer range and junk; string parameters with
their real values (actions, lookup columns, job files…) and junk; list, export and settlement
pages also get junk paging, ordering and filters on every search column. GET everything; POST (with a
valid CSRF token and no form data) where the route takes POST, never with an in-scope id: the
crawl must not change the shared demo data. Logout and locale switches are left out (they end
or change the crawling session; tests/security covers logout).
"""
from __future__ import annotations

import re
from collections import Counter

import pytest
from flask import g
from sqlalchemy import func, select

from app.routing import is_id_parameter
from models.security import AppUser
from models.vouchers import Activity, Voucher
from seed.loader import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.conftest import csrf_token

HUGE = ["281474976710656", "99999999999999999999"]
JUNK = ["abc"]
SKIPPED = {"static", "appbuilder.static", "AuthDBView.logout", "LocaleView.index"}
ROLES = list(dict.fromkeys(label for _user, label, _bound in DEMO_ACCOUNTS))
USERNAME = {label: next(u for u, lab, _b in DEMO_ACCOUNTS if lab == label) for label in ROLES}
_PARAM_MODELS = {"activity_id": Activity}


def _views_by_endpoint(app):
    return {view.endpoint: view for view in app.appbuilder.baseviews if getattr(view, "endpoint", None)}


def _model_of(view, argument):
    if argument in _PARAM_MODELS:
        return _PARAM_MODELS[argument]
    datamodel = getattr(view, "datamodel", None)
    return getattr(datamodel, "obj", None)


_ID_CACHE: dict = {}


def _ids(app, session, view, model, user):
    """(in scope, out of scope, nonexistent) ids of ``model`` for ``user`` through the view's base filters."""
    key = (getattr(view, "endpoint", None), model, getattr(user, "id", None))
    if key not in _ID_CACHE:
        _ID_CACHE[key] = _find_ids(app, session, view, model, user)
    return _ID_CACHE[key]


def _find_ids(app, session, view, model, user):
    pk = model.id
    top = session.scalar(select(func.max(pk))) or 0
    base = getattr(view, "_base_filters", None)
    if base is None or not base.filters:
        first = session.scalar(select(func.min(pk)))
        return first, None, top + 1000
    with app.test_request_context():
        g.user = user
        scoped = view.datamodel._apply_inner_all(session.query(pk), base, aliases_mapping={})
        inside = scoped.order_by(pk).limit(1).scalar()
        outside = session.query(pk).filter(~pk.in_(scoped.subquery().select())).order_by(pk).limit(1).scalar()
    return inside, outside, top + 1000


def _string_values(view, endpoint, argument, session):
    if endpoint.endswith(".action") and argument == "name":
        return list(getattr(view, "actions", {}) or {})[:3] + ["zz"]
    if argument == "action":
        return ["approve", "submit", "reject", "zz"]
    if argument == "column":
        columns = list(getattr(view, "lookup_columns", {}) or {}) + list(getattr(view, "image_columns", {}) or {})
        if endpoint.startswith("AppUserDBModelView"):
            columns += ["org", "member", "merchant"]
        return columns + ["zz"]
    if argument == "code":
        code = session.scalar(select(Voucher.code).order_by(Voucher.id).limit(1))
        return [code, "ZZZZ-0000", "x" * 300]
    real = {"which": ["result", "source", "errors"], "kind": ["members"], "version": ["v1"],
            "group_by": ["username"], "filename": ["x.txt"], "name": ["x.png"]}
    return real.get(argument, []) + ["zz"]


def _list_queries(rule, view) -> list[str]:
    """Junk a list or export page can be sent: paging, ordering, filters of every search column."""
    name = type(view).__name__
    queries = [f"page_{name}=abc", f"psize_{name}=abc", f"psize_{name}=100000000", f"page_{name}={HUGE[1]}",
               f"_oc_{name}=zz&_od_{name}=desc"]
    for column in getattr(view, "search_columns", None) or []:
        queries.append(f"_flt_0_{column}={HUGE[1]}&_flt_1_{column}=2026-13-45&_flt_3_{column}=zz&_flt_9_{column}=x")
    return [f"{rule.rule}?{q}" for q in queries]


def _requests(app, session, rule, view, role, user):
    """(method, path) pairs for one route and one role."""
    arguments = sorted(rule.arguments)
    granted = role is not None and view is not None and bool(
        app.extensions["union_roles"][role].grants.get(view.class_permission_name))
    if not arguments:
        paths = [(m, rule.rule) for m in ("GET", "POST") if m in rule.methods]
        if granted and rule.endpoint.endswith((".list", ".export", ".settle")):
            paths += [("GET", path) for path in _list_queries(rule, view)]
        return paths
    choices, safe_post = {}, {}
    for argument in arguments:
        if is_id_parameter(argument):
            model = _model_of(view, argument)
            inside, outside, missing = _ids(app, session, view, model, user) if model is not None else (1, None, 10**6)
            get_values = [v for v in (inside, outside, missing) if v is not None] + HUGE + JUNK
            post_values = [v for v in (outside, missing) if v is not None] + HUGE[:1] + JUNK[:1]
            # without a grant every value meets the same refusal: one is enough
            choices[argument] = get_values if granted else [inside or missing]
            safe_post[argument] = post_values if granted else [missing]
        else:
            values = _string_values(view, rule.endpoint, argument, session)
            choices[argument] = safe_post[argument] = values if granted else values[:1]
    out = []
    for method, table in (("GET", choices), ("POST", safe_post)):
        if method not in rule.methods:
            continue
        first = {a: table[a][0] for a in arguments}
        seen = set()
        for argument in arguments:
            for value in table[argument]:
                path = _fill(rule.rule, {**first, argument: value})
                if path not in seen:
                    seen.add(path)
                    out.append((method, path))
    return out


def _fill(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule)


def _login(app, role, account):
    """A real form login (one per role: password hashing is slow on purpose) and the API token
    the JWT login would issue for the same account."""
    from flask_jwt_extended import create_access_token

    client = app.test_client()
    if role is None:
        return client, csrf_token(client, "/login/"), {}
    token = csrf_token(client, "/login/")
    username, user_id = account
    response = client.post("/login/", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], username
    with app.app_context():
        jwt = create_access_token(identity=str(user_id), fresh=True)
    return client, csrf_token(client, "/resetmypassword/form"), {"Authorization": f"Bearer {jwt}"}


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_no_route_answers_500(csrf_app, role):
    from app.extensions import db

    with csrf_app.app_context():
        session = db.session
        user = session.scalar(select(AppUser).where(AppUser.username == USERNAME[role])) if role else None
        views = _views_by_endpoint(csrf_app)
        plan = []
        for rule in csrf_app.url_map.iter_rules():
            if rule.endpoint in SKIPPED:
                continue
            view = views.get(rule.endpoint.split(".")[0])
            plan += _requests(csrf_app, session, rule, view, role, user)
        account = (user.username, user.id) if user else None
        session.rollback()
    client, token, api_headers = _login(csrf_app, role, account)
    failures, statuses = [], Counter()
    for method, path in plan:
        api = path.startswith("/api/")
        kwargs = {"headers": api_headers, "json": {}} if api and method == "POST" else \
            {"headers": api_headers} if api else {"data": {"csrf_token": token}} if method == "POST" else {}
        try:
            response = client.open(path, method=method, **kwargs)
        except Exception as err:  # TESTING propagates page errors: each one is a 500
            failures.append(f"{method} {path} → {type(err).__name__}: {err}"[:300])
            continue
        statuses[response.status_code] += 1
        body = response.get_data(as_text=True) if response.mimetype in ("text/html", "application/json") else ""
        if path == "/healthz" and response.status_code == 503:
            continue  # the load balancer's probe: 503 says "no worker heard from" (none runs here), by design
        if response.status_code >= 500 or "Internal Server Error" in body:
            failures.append(f"{method} {path} → {response.status_code}")
    assert not failures, f"{len(failures)} of {len(plan)} requests failed:\n" + "\n".join(failures[:40])
    # the crawl reached real pages: not everything was refused or redirected
    assert statuses[200] >= (3 if role is not None else 1), statuses
