"""The sysadmin's pages (users, roles) and everyone's own password form, completed where FAB
falls short: binding by lookup (no page lists every member), separation of duties and no
self-service on one's own roles, the old password asked for, action routes that answer
404/403 instead of 500."""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, session, url_for
from flask_appbuilder.baseviews import expose
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import (
    ResetMyPasswordView,
    ResetPasswordView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
)
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from app.extensions import db
from app.routing import parse_id
from app.services import accounts, audit, duties
from app.services.errors import DomainError
from models.audit import AuditEvent
from models.members import Member
from models.organizations import Org
from models.security import AppUser
from models.vouchers import Merchant

from .base.display import display_value
from .lookup import Lookup, LookupField, LookupRelationField

POLICY = "至少10位，且包含大写字母、小写字母、数字、符号中的至少三类"
SESSION_EPOCH = "_epoch"  # the session epoch a browser session was issued under (app/security_manager.py)


# --- FAB's action routes, safe -------------------------------------------------------
class SafeActionsMixin:
    """FAB's security views, hardened like our scoped views: ``/action/<name>/<pk>`` and
    ``/action_post`` answer 500 to an unknown action (and on views without
    ``method_permission_name``): here an unknown action or row is 404, a missing grant 403, and
    actions are POST-only (CSRF-checked). Their datamodel is our ScopedInterface (set by the
    security manager): list filters obey views/base/filters.py and a forged sort is ignored
    (an operator index a column does not offer, or an unknown sort column, was a 500)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._filters.guard(self.class_permission_name, self.label_columns)

    def _action_or_refuse(self, name: str):
        if name not in self.actions:
            abort(404)
        if not current_user.is_authenticated:
            return None, redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        func_name = self.actions[name].func.__name__
        permission = (self.method_permission_name or {}).get(func_name)
        if not self.appbuilder.sm.has_access(f"can_{permission}" if permission else name, self.class_permission_name):
            abort(403)
        return self.actions[name], None

    def _row(self, pk):
        pk = parse_id(pk)
        item = self.datamodel.get(pk, self._base_filters) if pk is not None else None
        if item is None:
            abort(404)
        return item

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        action, refused = self._action_or_refuse(name)
        return refused or action.func(self._row(pk))

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        action, refused = self._action_or_refuse(request.form.get("action", ""))
        if refused:
            return refused
        items = [self._row(pk) for pk in request.form.getlist("rowid")]
        if not items:
            flash("请先勾选要操作的记录", "warning")
            return redirect(url_for(f"{self.endpoint}.list"))
        return action.func(items)


class AppRoleModelView(SafeActionsMixin, RoleModelView):
    """Roles as permissions.yaml defines them (read-only here): no FAB-internal roles or permission names."""

    class_permission_name = "RoleModelView"
    list_columns = show_columns = ["name"]
    search_columns = ["name"]
    label_columns = {"name": "角色名称"}
    base_filters = [["name", FilterInFunction, lambda: _assignable_roles()]]


class AppUserGroupModelView(SafeActionsMixin, UserGroupModelView):
    class_permission_name = "UserGroupModelView"


# --- users ---------------------------------------------------------------------------------
def _member_match(q: str):
    """Typed text: a full ID number (exact, audited), a member number (prefix) or a name (prefix)."""
    if len(q) == 18:
        return Member.id_number == q.upper()
    if q.isdigit():
        return Member.member_no.startswith(q, autoescape=True)
    return Member.name.startswith(q, autoescape=True)


# What the sysadmin may bind an account to. He sees no business data: a member shows as its
# name and masked ID number only, and is found by typing, never listed.
BINDINGS = {
    "org": Lookup(Org),
    "merchant": Lookup(Merchant),
    "member": Lookup(Member, match=_member_match, min_query=1,
                     describe=lambda m: f"{m.name}（{m.id_number_masked}）"),
}
BINDING_LABELS = {"org": _l("Organization"), "member": _l("Member"), "merchant": _l("Merchant")}
BINDING_HINTS = {"org": "输入组织名称搜索", "merchant": "输入商家名称搜索",
                 "member": "输入姓名、会员编号或完整证件号码搜索"}


def _binding_fields() -> dict:
    return {column: LookupRelationField(BINDING_LABELS[column], endpoint=f"/users/lookup/{column}",
                                        lookup=BINDINGS[column], placeholder=BINDING_HINTS[column])
            for column in BINDINGS}


def _assignable_roles() -> list[str]:
    from flask import current_app

    return list(current_app.extensions["union_roles"])


def _edited_user(form):
    pk = getattr(form, "_id", None)
    return db.session.get(AppUser, pk) if pk is not None else None


def _roles_allowed(form, field):
    """Form check of the account rules (app/services/duties.py): a Chinese error on the field."""
    if not field.data:
        raise ValidationError("请至少选择一个角色")
    try:
        duties.check_account_change(g.user, _edited_user(form), [r.name for r in field.data],
                                    form.active.data if "active" in form else True)
    except DomainError as err:
        raise ValidationError(err.message) from None


def _password_fields(label) -> dict:
    return {
        "password": PasswordField(label, description=POLICY, widget=BS3PasswordFieldWidget(),
                                  validators=[DataRequired("请填写密码"), PasswordComplexityValidator()]),
        "conf_password": PasswordField("确认密码", description="请再次输入密码", widget=BS3PasswordFieldWidget(),
                                       validators=[DataRequired("请再次输入密码"),
                                                   EqualTo("password", message="两次输入的密码不一致")]),
    }


_ACCOUNT_COLUMNS = ["first_name", "last_name", "username", "active", "email", "roles", *BINDINGS]


class AppUserDBModelView(SafeActionsMixin, UserDBModelView):
    """Users as the sysadmin manages them: plus the org, member or merchant they are bound to."""

    add_template = "union/lookup_form_add.html"
    edit_template = "union/lookup_form_edit.html"
    list_columns = ["username", "first_name", "roles", "org", "active", "last_login", "locked_until"]
    show_columns = ["first_name", "last_name", "username", "active", "email", "roles", *BINDINGS,
                    "last_login", "login_count", "fail_login_count", "locked_until", "created_on", "changed_on"]
    show_fieldsets = None  # FAB's fieldsets would hide the binding
    add_columns = [*_ACCOUNT_COLUMNS, "password", "conf_password"]
    edit_columns = _ACCOUNT_COLUMNS
    search_columns = ["username", "first_name", "email", "active", "roles", "org", "locked_until"]
    label_columns = {**UserDBModelView.label_columns, **BINDING_LABELS, "locked_until": _l("Locked until")}
    description_columns = {"roles": "系统管理、审计管理与业务三类角色不能由同一账户兼任",
                           "active": "停用后该账户的所有登录会话立即失效"}
    add_form_extra_fields = {**_binding_fields(), **_password_fields("密码")}
    edit_form_extra_fields = _binding_fields()
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "roles": [["name", FilterInFunction, _assignable_roles]]}
    validators_columns = {"roles": [_roles_allowed]}
    formatters_columns = {
        **{c: display_value for c in ("active", "last_login", "locked_until", "login_count", "fail_login_count",
                                      "created_on", "changed_on")},
        **{c: (lambda row, c=c: BINDINGS[c].describe(row) if row is not None else "") for c in BINDINGS},
        "roles": lambda roles: "、".join(r.name for r in roles or []),
    }
    list_template = "union/list.html"  # (with lookup.js: the org filter is typed in, not listed)
    search_form_extra_fields = {"org": LookupField(BINDING_LABELS["org"], endpoint="/users/lookup/org")}
    method_permission_name = {"lookup": "list"}

    @expose("/lookup/<column>")
    @has_access
    def lookup(self, column):
        """JSON ``[{id, text}]`` for the binding fields; a search by full ID number is audited."""
        if column not in BINDINGS:
            abort(404)
        q = (request.args.get("q") or "").strip()
        if column == "member" and len(q) == 18:
            audit.record_now(db.session, AuditEvent.ID_LOOKUP, target_type="member",
                             summary="绑定账户时按完整证件号码查找会员")
        return jsonify(BINDINGS[column].search(request.args))

    def pre_add(self, item):
        self._check(item, None)
        super().pre_add(item)

    def pre_update(self, item):
        self._check(item, None)  # the form checked self-changes; the flush guard checks them again
        super().pre_update(item)

    def pre_delete(self, item):
        if item.id == g.user.id:
            raise ValueError("不能删除自己的账户")

    def post_add(self, item):
        self._audit(AuditEvent.CREATE, item, "新增账户")

    def post_update(self, item):
        self._audit(AuditEvent.UPDATE, item, "修改账户")

    def _check(self, item, user):
        try:
            duties.check_account_change(g.user, user, [r.name for r in item.roles], item.active)
        except DomainError as err:
            db.session.rollback()  # the populated row must not ride along with a later commit
            raise ValueError(err.message) from None

    def _audit(self, event, item, what):
        roles = "、".join(r.name for r in item.roles)
        state = "启用" if item.active else "停用"
        audit.record_now(db.session, event, target_type="ab_user", target_id=item.id,
                         summary=f"{what} {item.username}：角色 {roles}，{state}")


# --- passwords ------------------------------------------------------------------------------
class ChangeMyPasswordForm(DynamicForm):
    old_password = PasswordField("原密码", widget=BS3PasswordFieldWidget(), validators=[DataRequired("请填写原密码")])
    password = _password_fields("新密码")["password"]
    conf_password = _password_fields("新密码")["conf_password"]


class ChangeMyPasswordView(ResetMyPasswordView):
    """Everyone's own password: the old one first; every other session of the account ends."""

    class_permission_name = "ResetMyPasswordView"
    form = ChangeMyPasswordForm
    form_title = "修改密码"

    def form_post(self, form):
        """The one own-password rule (app/services/accounts.change_password): old password, policy, differs."""
        user = db.session.get(AppUser, g.user.id)
        try:
            accounts.change_password(db.session, user, old_password=form.old_password.data,
                                     new_password=form.password.data, confirm=form.conf_password.data)
        except DomainError as err:
            db.session.rollback()
            field = {"old_password": form.old_password, "confirm": form.conf_password}.get(err.field, form.password)
            field.errors = [*field.errors, err.message]
            return self.render_template(self.form_template, title=self.form_title,
                                        widgets=self._get_edit_widget(form=form), appbuilder=self.appbuilder)
        session[SESSION_EPOCH] = user.session_epoch  # this session goes on; every other one has ended
        flash("密码已修改，该账户在其他设备上的登录已全部失效", "success")
        return None


class AdminResetPasswordForm(DynamicForm):
    password = _password_fields("新密码")["password"]
    conf_password = _password_fields("新密码")["conf_password"]


class AdminResetPasswordView(ResetPasswordView):
    """The sysadmin resets another account's password (his own goes through the old-password form)."""

    class_permission_name = "ResetPasswordView"
    form = AdminResetPasswordForm
    form_title = "重置密码"

    def _target(self):
        pk = parse_id(request.args.get("pk"))
        user = db.session.scalar(select(AppUser).where(AppUser.id == pk)) if pk else None
        if user is None:
            abort(404)
        return user

    def _refuse_own(self, user):
        if user.id == g.user.id:
            flash("修改自己的密码须验证原密码，请使用「修改密码」", "warning")
            return redirect(url_for(f"{self.appbuilder.sm.resetmypasswordview.__name__}.this_form_get"))
        return None

    @expose("/form", methods=["GET"])
    @has_access
    def this_form_get(self):
        return self._refuse_own(self._target()) or super().this_form_get()

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        return self._refuse_own(self._target()) or super().this_form_post()

    def form_post(self, form):
        user = self._target()
        self.appbuilder.sm.reset_password(user.id, form.password.data)
        audit.record_now(db.session, AuditEvent.PASSWORD_CHANGE, target_type="ab_user", target_id=user.id,
                         summary=f"重置 {user.username} 的密码")
        flash(f"已重置 {user.username} 的密码，该账户的所有登录会话已失效", "success")
        return redirect(url_for(f"{self.appbuilder.sm.user_view.endpoint}.show", pk=user.id))
