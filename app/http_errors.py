"""How HTTP errors answer. Under /api/ every refusal is JSON ``{"code": …, "message": …}`` in
Chinese: JWT problems, unknown routes, wrong methods, rate limits and unexpected errors alike
(never an HTML page). A form posted with a stale CSRF token (the page sat open past a logout, or
another tab replaced the session) goes back to its page with a notice instead of a bare 400."""
from __future__ import annotations

import logging

from flask import flash, jsonify, make_response, redirect, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_HTTP = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "接口或记录不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "请求内容过大"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
}


def json_error(status: int, code: str, message: str):
    """Every API refusal: a JSON body with a stable code and a Chinese message."""
    return make_response(jsonify(code=code, message=message), status)


def http_error(status: int):
    code, message = _HTTP.get(status, _HTTP[400] if status < 500 else _HTTP[500])
    return json_error(status, code, message)


def register_http_errors(app, jwt_manager) -> None:
    jwt_manager.unauthorized_loader(lambda _reason: json_error(401, "unauthenticated", "请先登录"))
    jwt_manager.invalid_token_loader(lambda _reason: json_error(401, "invalid_token", "登录凭证无效，请重新登录"))
    jwt_manager.expired_token_loader(lambda _h, _p: json_error(401, "token_expired", "登录已过期，请重新登录"))
    jwt_manager.revoked_token_loader(lambda _h, _p: json_error(401, "token_revoked", "登录凭证已失效，请重新登录"))
    jwt_manager.user_lookup_error_loader(lambda _h, _p: json_error(401, "unauthenticated", "账户不存在或已停用"))
    jwt_manager.needs_fresh_token_loader(lambda _h, _p: json_error(401, "fresh_login_required", "请重新登录后再试"))

    @app.errorhandler(CSRFError)
    def _stale_form(_err: CSRFError):
        if request.path.startswith("/api/"):
            return json_error(400, "csrf_failed", "页面已过期，请刷新后重试")
        flash("页面已过期或登录状态已变化，请重新提交", "warning")
        back = request.referrer or ""
        return redirect(back if back.startswith(request.host_url) else "/")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if request.path.startswith("/api/"):
            return http_error(err.code or 500)
        if err.code == 429:  # public forms (registration, SMS codes, login): a Chinese page, not Werkzeug's
            if request.headers.get("X-Requested-With") == "fetch":
                return jsonify(ok=False, message=_HTTP[429][1]), 429
            return make_response(f"<!doctype html><meta charset=utf-8><title>{_HTTP[429][1]}</title>"
                                 f"<p>{_HTTP[429][1]}</p>", 429)
        return err

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # (HTTP errors reach the handler above: Flask picks the most specific class)
        if not request.path.startswith("/api/"):
            raise err  # pages keep Flask's own handling: the debugger, or a logged 500
        log.exception("unhandled error on %s", request.path)
        return http_error(500)
