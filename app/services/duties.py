"""Separation of duties (三员分立) on accounts.

Every role of ``permissions.yaml`` belongs to one duty: system (系统管理员: accounts only),
audit (审计管理员: the audit log only) or business (every other role, 审计员 included: it reads
business data of its scope, never the audit log). The rules, on every path that creates or
changes an account (forms, CLI, seed, provisioning), because a flush guard re-checks them:

- one account holds roles of one duty only, and only roles defined in ``permissions.yaml``;
- nobody changes his own roles, nor activates or deactivates himself.
"""
from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.security import current_user
from app.services.errors import DomainError
from models.security import AppUser

DUTY_LABELS = {"system": "系统管理", "audit": "审计管理", "business": "业务"}


class DutyConflictError(DomainError):
    code = "duty_conflict"


class SelfAccountChangeError(DomainError):
    code = "self_account_change"


def duty_of(role_name: str) -> str | None:
    """The duty of a role of permissions.yaml (None for a role the file does not define)."""
    role = current_app.extensions["union_roles"].get(role_name)
    return role.duty if role is not None else None


def check_roles(role_names) -> None:
    """Roles one account may hold together.

    Raises:
        DutyConflictError: a role outside permissions.yaml, or roles of two duties.
    """
    names = [str(n) for n in role_names]
    unknown = [n for n in names if duty_of(n) is None]
    if unknown:
        raise DutyConflictError(f"角色「{'、'.join(unknown)}」未在权限配置中定义，不能分配给账户")
    duties = {duty_of(n) for n in names}
    if len(duties) > 1:
        held = "、".join(f"{DUTY_LABELS[d]}（{'、'.join(n for n in names if duty_of(n) == d)}）"
                        for d in sorted(duties))
        raise DutyConflictError(f"系统管理、审计管理与业务三类角色不能由同一账户兼任：{held}")


def check_account_change(actor, user, role_names, active) -> None:
    """What ``actor`` may change on ``user``'s account: the duty rule, and never his own roles or state.

    Raises:
        DutyConflictError, SelfAccountChangeError.
    """
    check_roles(role_names)
    if actor is None or user is None or user.id is None or actor.id != user.id:
        return
    if {str(n) for n in role_names} != {r.name for r in user.roles}:
        raise SelfAccountChangeError("不能修改自己账户的角色，请由另一位系统管理员操作")
    if bool(active) != bool(user.active):
        raise SelfAccountChangeError("不能停用或启用自己的账户，请由另一位系统管理员操作")


@event.listens_for(Session, "before_flush")
def _guard_accounts(session, _flush_context, _instances):
    """The last line: no flush stores an account that breaks the rules, whichever path built it."""
    if not has_app_context() or "union_roles" not in current_app.extensions:
        return
    actor = current_user()
    for user in (*session.new, *session.dirty):
        if not isinstance(user, AppUser):
            continue
        state = inspect(user)
        roles_changed = state.attrs.roles.history.has_changes()
        if user in session.new or roles_changed:
            check_roles(r.name for r in user.roles)
        own = actor is not None and user.id == actor.id and not state.pending
        if own and (roles_changed or state.attrs.active.history.has_changes()):
            raise SelfAccountChangeError("不能修改自己账户的角色或启用状态，请由另一位系统管理员操作")
