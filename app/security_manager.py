"""The security manager: FAB's, completed with what it lacks.

Lockout after N failed logins, audit of every login event, password policy on every account
creation path, idle session timeout, server-side revocation of sessions and API tokens
(a per-account session epoch), user ↔ org/member/merchant binding (views/users.py).
"""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app, flash, g, has_request_context, jsonify, redirect, request, session, url_for
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_login import current_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

import app.services.duties  # noqa: F401  (installs the account flush guard)
from app import caches
from app.routing import parse_id
from app.services import audit
from app.validators import check_password_policy
from models.audit import AuditEvent
from models.base import utcnow
from models.security import AppUser

from views.base import ScopedInterface
from views.users import (
    SESSION_EPOCH,
    AdminResetPasswordView,
    AppRoleModelView,
    AppUserDBModelView,
    AppUserGroupModelView,
    ChangeMyPasswordView,
)


class UnionSecurityManager(SecurityManager):
    user_model = AppUser
    userdbmodelview = AppUserDBModelView
    resetmypasswordview = ChangeMyPasswordView
    resetpasswordview = AdminResetPasswordView
    rolemodelview = AppRoleModelView
    groupmodelview = AppUserGroupModelView

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        self._api_users = caches.RowCache(self.user_model, ttl_setting="USER_CACHE_SECONDS")
        # FAB gives its security views a plain SQLAInterface: ours guards filters, sorts and paging
        self.userdbmodelview.datamodel = ScopedInterface(self.user_model)
        self.rolemodelview.datamodel = ScopedInterface(self.role_model)
        self.groupmodelview.datamodel = ScopedInterface(self.group_model)

    # --- sessions and tokens: valid only under the account's current epoch --------------
    def load_user(self, pk):
        """The browser session's user, unless the account ended its sessions since (or is inactive)."""
        user = self._active_user(pk)
        if user is None or session.get(SESSION_EPOCH) != user.session_epoch:
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The API token's user, unless the account ended its sessions since the token was issued;
        refused with a Chinese 403 while on a one-time password (I-9) — the user is loaded here
        anyway, so neither check costs a query."""
        user = self._active_user(jwt_data.get("sub"), cached=True)
        if user is None or jwt_data.get("epoch") != user.session_epoch:
            return None
        if getattr(user, "must_change_password", False):
            from flask import abort

            from app.http_errors import json_error
            from app.services.accounts import PASSWORD_CHANGE_REQUIRED

            abort(json_error(403, *PASSWORD_CHANGE_REQUIRED))
        g.user = user
        return user

    def _active_user(self, pk, *, cached: bool = False):
        pk = parse_id(pk)
        if pk is None:
            return None
        user = self.get_user_by_id(pk) if not cached else (
            self._known_user(pk) or self._api_users.get(self.session, pk, self._load_user_by_id))
        return user if user is not None and user.is_active else None

    def create_jwt_manager(self, app):
        manager = super().create_jwt_manager(app)
        manager.additional_claims_loader(self._token_claims)
        manager._decode_jwt_from_config = caches.cached_decoder(manager._decode_jwt_from_config)
        return manager

    def _token_claims(self, identity) -> dict:
        """Every access and refresh token carries the epoch it was issued under."""
        pk = parse_id(identity)
        epoch = self.session.scalar(select(AppUser.session_epoch).where(AppUser.id == pk)) if pk else None
        return {"epoch": epoch}

    # --- accounts -------------------------------------------------------------
    def add_user(self, username, first_name, last_name, email, role, password="", hashed_password="",
                 groups=None, commit=True):
        """Every path that creates an account (CLI, seed, forms) obeys the password policy."""
        if password and not hashed_password:
            check_password_policy(password)
        return super().add_user(username, first_name, last_name, email, role, password=password,
                                hashed_password=hashed_password, groups=groups, commit=commit)

    # --- permission checks: the role set's grants, cached per process for a few seconds
    # (roles only change through permissions.yaml; not one query per menu item and button)
    _grants_cache: dict = {}

    def role_grants(self, role_ids: frozenset) -> set:
        return self._cached_grants(role_ids, lambda: assoc_permissionview_role.c.role_id.in_(role_ids))

    def _cached_grants(self, key, role_clause) -> set:
        """``role_clause``: the roles' condition, or a function building it (built only on a miss)."""
        ttl = current_app.config.get("PERMISSION_CACHE_SECONDS", 30)
        hit = self._grants_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
        if callable(role_clause):
            role_clause = role_clause()
        rows = self.session.execute(
            select(self.permission_model.name, self.viewmenu_model.name)
            .select_from(self.permissionview_model)
            .join(self.permission_model).join(self.viewmenu_model)
            .join(assoc_permissionview_role,
                  assoc_permissionview_role.c.permission_view_id == self.permissionview_model.id)
            .where(role_clause)
        )
        pairs = {(p, v) for p, v in rows}
        self._grants_cache[key] = (time.monotonic(), pairs)
        return pairs

    def is_item_public(self, permission_name, view_name):
        """The public role's grants from the same cache (FAB loads them twice per API request)."""
        def public_role():
            public = select(self.role_model.id).where(self.role_model.name == self.auth_role_public)
            return assoc_permissionview_role.c.role_id == public.scalar_subquery()

        return (permission_name, view_name) in self._cached_grants("public", public_role)

    _user_by_id = None

    def get_user_by_id(self, pk):
        """The user with its roles in one query (every JWT request and session load asks): the
        statement is built once — building and cache-keying it per request cost more CPU than the
        database spends on it."""
        pk = int(pk)
        return self._known_user(pk) or self._load_user_by_id(self.session, pk)

    def _known_user(self, pk: int):
        return self.session.identity_map.get(self.session.identity_key(self.user_model, pk))

    def _load_user_by_id(self, session, pk: int):
        if self._user_by_id is None:
            type(self)._user_by_id = (select(self.user_model).options(joinedload(self.user_model.roles))
                                      .where(self.user_model.id == bindparam("pk")))
        return session.execute(self._user_by_id, {"pk": pk}).unique().scalar_one_or_none()

    def get_user_roles(self, user):
        """Roles come from permissions.yaml assignments only: FAB's user groups are not used."""
        return user.roles if user.is_authenticated else [self.get_public_role()]

    @classmethod
    def forget_grants(cls) -> None:
        """After a role sync: the next check reloads the grants."""
        cls._grants_cache.clear()

    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        if not has_request_context() or not getattr(user, "is_authenticated", False):
            return super()._has_view_access(user, permission_name, view_name)
        cache = g.get("_permission_cache")
        if cache is None or cache[0] != user.id:
            role_ids = frozenset(r.id for r in self.get_user_roles(user) if r.name not in self.builtin_roles)
            cache = (user.id, self.role_grants(role_ids) if role_ids else set())
            g._permission_cache = cache
        if (permission_name, view_name) in cache[1]:
            return True
        return super()._has_view_access(user, permission_name, view_name) if self._has_builtin(user) else False

    def _has_builtin(self, user) -> bool:
        return any(r.name in self.builtin_roles for r in self.get_user_roles(user))

    # --- login hardening ----------------------------------------------------------
    def auth_user_db(self, username, password):
        user = self.find_user(username=username) if username else None
        if user is not None and user.locked_until and user.locked_until > utcnow():
            audit.record_now(self.session, AuditEvent.LOGIN_FAILED, actor=user,
                             summary="账户锁定期间尝试登录")
            local = user.locked_until.astimezone(_display_tz())
            flash(f"账户因多次登录失败已锁定，请于 {local:%H:%M} 后再试", "danger")
            return None
        result = super().auth_user_db(username, password)
        if result is None and user is None and username:
            audit.record_now(self.session, AuditEvent.LOGIN_FAILED, username=str(username)[:64],
                             summary="用户名不存在")
        return result

    def on_user_login(self, user) -> None:
        user.locked_until = None
        audit.record_now(self.session, AuditEvent.LOGIN_OK, actor=user, summary="登录成功")
        session["_last_seen"] = time.time()
        session[SESSION_EPOCH] = user.session_epoch
        session.permanent = True

    def on_user_login_failed(self, user) -> None:
        cfg = current_app.config
        if (user.fail_login_count or 0) >= cfg["LOGIN_MAX_FAILURES"]:
            user.locked_until = utcnow() + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            user.fail_login_count = 0
            audit.record(self.session, AuditEvent.LOCKOUT, actor=user,
                         summary=f"连续{cfg['LOGIN_MAX_FAILURES']}次登录失败，锁定{cfg['LOGIN_LOCK_MINUTES']}分钟")
        audit.record_now(self.session, AuditEvent.LOGIN_FAILED, actor=user, summary="密码错误")

    def on_user_logout(self, user) -> None:
        """Logging out ends every session and API token of the account, not just this cookie."""
        if user is not None and getattr(user, "is_authenticated", False):
            user.revoke_sessions()
            audit.record_now(self.session, AuditEvent.LOGOUT, actor=user, summary="退出登录（该账户的所有会话已失效）")
        session.pop(SESSION_EPOCH, None)


def _display_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def enforce_idle_timeout():
    """before_request: log out a session idle longer than SESSION_IDLE_MINUTES."""
    if request.endpoint in ("static", "appbuilder.static") or not current_user.is_authenticated:
        return None
    if request.path.startswith("/api/") and not session.get("_user_id"):
        return None  # JWT requests carry no browser session
    now = time.time()
    last = session.get("_last_seen")
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if last is not None and now - last > idle:
        sm = current_app.appbuilder.sm
        audit.record_now(sm.session, AuditEvent.SESSION_TIMEOUT, actor=current_user._get_current_object(),
                         summary="空闲超时，已自动退出")
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            return jsonify(code="session_expired", message="会话已超时，请重新登录"), 401
        flash("会话空闲超过时限，已自动退出，请重新登录", "warning")
        return redirect(url_for("AuthDBView.login"))
    session["_last_seen"] = now
    session.permanent = True
    return None
