"""Error pages: Chinese, inside the layout (menu, user), with 返回上一页 and 首页 — for every role and
anonymous; API paths keep their JSON; a page that raises answers our 500 page, never a traceback."""
from __future__ import annotations

import pytest
from flask import abort

from seed.loader import DEMO_ACCOUNTS
from tests.conftest import IsolatedClient, _config, login

WEB_USERS = [u for u, role, _bound in DEMO_ACCOUNTS if role != "会员"]  # 会员: JSON API only
ENGLISH = ("Not Found", "Forbidden", "Method Not Allowed", "Bad Request", "Internal Server Error",
           "Request Entity Too Large", "The requested URL")


def assert_error_page(response, status: int, title: str, *, user: str | None = None) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'id="error-page" data-status="{status}"' in html and title in html
    assert "返回上一页" in html and 'id="error-home"' in html and "返回首页" in html
    assert 'class="navbar' in html and "工会服务管理后台" in html  # the layout: navbar and app name
    if user:
        assert user in html  # the user menu
    else:
        assert 'id="error-login"' in html
    assert not [word for word in ENGLISH if word in html], html
    return html


@pytest.mark.parametrize("username", WEB_USERS)
def test_unknown_page_is_a_chinese_404_in_the_layout(client_as, username):
    assert_error_page(client_as(username).get("/no-such-page/"), 404, "页面不存在", user=username)


def test_anonymous_404_offers_the_login(app):
    assert_error_page(app.test_client().get("/no-such-page"), 404, "页面不存在")


@pytest.mark.parametrize("username, url", [("reviewer", "/auditlogview/list/"), ("sysadmin", "/memberview/list/"),
                                           ("auditadmin", "/statistics/"), ("merchant", "/memberview/list/"),
                                           ("auditor", "/memberview/add"), ("finance", "/datajobview/upload")])
def test_missing_grant_is_a_chinese_403(client_as, username, url):
    assert_error_page(client_as(username).get(url), 403, "无权访问", user=username)


def test_out_of_scope_row_is_a_chinese_404(client_as, ctx):
    from tests.factories import base_of, county, make_member

    other = make_member(ctx, base_of(ctx, county(ctx, 1), 0))
    assert_error_page(client_as("county_admin").get(f"/memberview/show/{other.id}"), 404, "页面不存在",
                      user="county_admin")


def test_wrong_method_is_a_chinese_405_that_keeps_allow(client_as):
    response = client_as("county_admin").post("/")
    assert_error_page(response, 405, "操作方式不正确", user="county_admin")
    assert "GET" in response.headers["Allow"]


def test_bad_request_is_a_chinese_400(client_as):
    assert_error_page(client_as("base_admin").get("/memberview/list/?q=%00"), 400, "请求有误", user="base_admin")


def test_back_link_returns_to_the_referring_page_of_this_site(client_as):
    client = client_as("county_admin")
    html = client.get("/no-such-page/", headers={"Referer": "http://localhost/memberview/list/"}).get_data(
        as_text=True)
    assert 'id="error-back" href="http://localhost/memberview/list/"' in html
    foreign = client.get("/no-such-page/", headers={"Referer": "https://evil.example/"}).get_data(as_text=True)
    assert "evil.example" not in foreign and 'href="javascript:history.back()"' in foreign


def test_api_paths_keep_their_json(client_as, app):
    response = app.test_client().get("/api/v1/no-such-api/")
    assert response.status_code == 404 and response.get_json() == {"code": "not_found", "message": "接口或记录不存在"}
    assert client_as("county_admin").post("/api/v1/me/", json={}).get_json()["code"] in {
        "method_not_allowed", "unauthenticated", "forbidden"}


@pytest.fixture(scope="module")
def raising_app(db_url, app):
    """The app as production runs it (no TESTING, exceptions not propagated), with routes that fail."""
    from app import create_app

    application = create_app(_config(db_url, TESTING=False, PROPAGATE_EXCEPTIONS=False))
    application.test_client_class = IsolatedClient

    def boom():
        raise RuntimeError("boom")

    application.add_url_rule("/_test/boom", "test_boom", boom)
    application.add_url_rule("/api/v1/_test/boom", "test_api_boom", boom)
    application.add_url_rule("/_test/too-large", "test_too_large", lambda: abort(413))
    return application


@pytest.mark.parametrize("username", ["county_admin", "auditor", "sysadmin", None])
def test_a_page_that_raises_answers_the_chinese_500_page(raising_app, username):
    client = raising_app.test_client()
    if username:
        login(client, username)
    html = assert_error_page(client.get("/_test/boom"), 500, "系统处理出错", user=username)
    assert "RuntimeError" not in html and "Traceback" not in html


def test_an_api_that_raises_answers_json(raising_app):
    response = raising_app.test_client().get("/api/v1/_test/boom")
    assert response.status_code == 500 and response.get_json()["code"] == "internal_error"


def test_too_large_is_a_chinese_413(raising_app):
    client = raising_app.test_client()
    login(client, "base_admin")
    assert_error_page(client.get("/_test/too-large"), 413, "提交的内容过大", user="base_admin")


def test_when_the_layout_fails_a_plain_chinese_page_is_sent(client_as, monkeypatch):
    from app import http_errors

    def broken(*_args, **_kwargs):
        raise RuntimeError("layout down")

    monkeypatch.setattr(http_errors, "render_template", broken)
    response = client_as("county_admin").get("/no-such-page/")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "页面不存在" in html and "返回上一页" in html and "返回首页" in html
    assert "Not Found" not in html and "layout down" not in html
