"""How HTTP errors answer. Under /api/ every refusal is JSON ``{"code": …, "message": …}`` in
Chinese: JWT problems, unknown routes, wrong methods, rate limits and unexpected errors alike
(never an HTML page). Pages answer a Chinese error page inside the layout (menu, user) with a way
back (``error_page``), never werkzeug's bare English one. A form posted with a stale CSRF token
(the page sat open past a logout, or another tab replaced the session) goes back to its page with
a notice instead of a bare 400."""
from __future__ import annotations

import logging

from flask import current_app, flash, jsonify, make_response, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
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


# what a person reads on a page: (title, what happened and what to do)
_PAGES = {
    400: ("请求有误", "提交的内容格式不正确或不完整，请返回上一页检查后重试。"),
    403: ("无权访问", "您的账户没有执行此操作的权限。如需开通，请联系系统管理员。"),
    404: ("页面不存在", "您访问的页面或记录不存在，或不在您的管辖范围内。"),
    405: ("操作方式不正确", "该页面不支持这种操作方式，请通过页面上的按钮进行操作。"),
    413: ("提交的内容过大", "上传的文件或提交的内容超过了允许的大小，请缩小后重试。"),
    429: ("操作过于频繁", "请稍候片刻再试。"),
    500: ("系统处理出错", "服务器处理请求时出错，错误已记录。请稍后重试；若一直出现，请联系系统管理员。"),
}


def json_error(status: int, code: str, message: str):
    """Every API refusal: a JSON body with a stable code and a Chinese message."""
    return make_response(jsonify(code=code, message=message), status)


def http_error(status: int):
    code, message = _HTTP.get(status, _HTTP[400] if status < 500 else _HTTP[500])
    return json_error(status, code, message)


def page_text(status: int) -> tuple[str, str]:
    return _PAGES.get(status) or (_PAGES[400] if status < 500 else _PAGES[500])


def error_page(status: int, message: str | None = None, headers=()):
    """The Chinese error page of ``status`` inside the layout, with 返回上一页 and 首页.

    ``message`` replaces the standard explanation (e.g. the size limit of an upload). Should the
    layout itself fail (the database is down), a plain page in the same words is sent instead.
    """
    title, text = page_text(status)
    back = request.referrer or ""
    back = back if back.startswith(request.host_url) and back != request.url else ""
    try:
        appbuilder = current_app.appbuilder
        from app.extensions import db

        db.session.rollback()  # a failed transaction must not break the menu's queries
        body = render_template("union/error.html", base_template=appbuilder.base_template, appbuilder=appbuilder,
                               status=status, title=title, message=message or text, back=back)
    except Exception:
        log.exception("error page %s could not be rendered in the layout", status)
        body = (f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title></head>'
                f"<body><h1>{status} {title}</h1><p>{escape(message or text)}</p>"
                f'<p><a href="javascript:history.back()">返回上一页</a> · <a href="/">返回首页</a></p></body></html>')
    response = make_response(body, status)
    for name, value in headers:
        response.headers[name] = value
    return response


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
        if err.code is None or err.code < 400:
            return err
        if request.path.startswith("/api/"):
            return http_error(err.code)
        if err.code == 429 and request.headers.get("X-Requested-With") == "fetch":
            return jsonify(ok=False, message=_HTTP[429][1]), 429  # public forms asking by fetch
        if err.response is not None:
            return err.response
        # keep what the status needs (Allow on 405, Retry-After on 429), not werkzeug's English body
        kept = [(k, v) for k, v in err.get_headers() if k.lower() not in ("content-type", "content-length")]
        return error_page(err.code, headers=kept)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # (HTTP errors reach the handler above: Flask picks the most specific class)
        if not request.path.startswith("/api/"):
            raise err  # pages: the debugger in development, else Flask logs it and answers our 500 page
        log.exception("unhandled error on %s", request.path)
        return http_error(500)
