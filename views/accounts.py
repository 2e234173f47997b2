"""Account pages every user reaches: the own-password change (forced after a one-time password,
I-9) and the public 忘记密码 by SMS code. ``enforce_password_change`` runs before every request."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_login import current_user as login_user

from app.extensions import db
from app.http_errors import json_error
from app.security import current_user
from app.services import accounts
from app.services.errors import DomainError

# what a user who must change his password may still open
_ALLOWED_ENDPOINTS = {"AccountView.password", "AccountView.forgot_password", "AuthDBView.logout", "AuthDBView.login",
                      "static", "appbuilder.static", "SecurityApi.login", "SecurityApi.refresh"}


def enforce_password_change():
    """before_request: a browser session on a one-time password reaches nothing but the change form
    (pages redirect there; session-authenticated APIs answer 403 ``password_change_required``; JWT
    requests are refused where the token's user is loaded, ``UnionSecurityManager.load_user_jwt``)."""
    if request.endpoint in _ALLOWED_ENDPOINTS or not login_user.is_authenticated:
        return None
    if not getattr(login_user, "must_change_password", False):
        return None
    if request.path.startswith("/api/"):
        return json_error(403, *accounts.PASSWORD_CHANGE_REQUIRED)
    flash("首次登录请先修改初始密码", "warning")
    return redirect(url_for("AccountView.password"))


class AccountView(BaseView):
    """修改密码 (logged-in users) and 忘记密码 (public, SMS code)."""

    route_base = "/account"
    default_view = "password"

    @expose("/password", methods=["GET", "POST"])
    def password(self):
        user = current_user()
        if user is None:
            return redirect(url_for("AuthDBView.login", next=request.url))
        if request.method == "POST":
            try:
                accounts.change_password(db.session, user, old_password=request.form.get("old_password", ""),
                                         new_password=request.form.get("password", ""),
                                         confirm=request.form.get("confirm", ""))
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
            else:
                from flask import session

                from views.users import SESSION_EPOCH

                session[SESSION_EPOCH] = user.session_epoch  # this session goes on; every other one has ended
                flash("密码已修改，该账户在其他设备上的登录已全部失效", "success")
                return redirect(self.appbuilder.get_url_for_index)
        return self.render_template("union/account_password.html", title="修改密码",
                                    forced=getattr(user, "must_change_password", False))

    @expose("/forgot-password", methods=["GET", "POST"])
    def forgot_password(self):
        phone = (request.form.get("phone") or "").strip()
        username = (request.form.get("username") or "").strip()
        code_sent = False
        if request.method == "POST":
            try:
                if request.form.get("step") == "send":
                    accounts.send_reset_code(db.session, phone)
                    flash("如该手机号已登记账户，验证码已发送，5分钟内有效", "info")
                    code_sent = True
                else:
                    user = accounts.reset_password_with_code(
                        db.session, phone=phone, code=request.form.get("code", ""),
                        new_password=request.form.get("password", ""), confirm=request.form.get("confirm", ""),
                        username=username or None)
                    flash(f"账户 {user.username} 的密码已重置，请登录", "success")
                    return redirect(url_for("AuthDBView.login"))
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
                code_sent = request.form.get("step") != "send"
        return self.render_template("union/forgot_password.html", title="忘记密码", phone=phone, username=username,
                                    code_sent=code_sent)
