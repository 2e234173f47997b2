"""Scoping: one function per scope kind, used by every view, API, export and action.

A role's scope kind comes from ``permissions.yaml``. Org scopes resolve to a
SQL condition on an org id column using the indexed materialized path.
"""
from __future__ import annotations

from enum import StrEnum

from flask import current_app, g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false, select, true

from models.organizations import Org


class ScopeKind(StrEnum):
    CITY = "city"                  # the whole city tree below the user's org
    SUBTREE = "subtree"            # the user's org and everything below it
    OWN_UNION = "own_union"        # the user's own base union only
    OWN_MERCHANT = "own_merchant"  # the merchant the user is bound to
    OWN_BASE = "own_base"          # the recuperation base the user is bound to
    OWN_MEMBER_UNIT = "own_member_unit"  # the member unit (会员单位) the user handles
    SELF = "self"                  # the member record bound to the user
    NONE = "none"                  # no business data at all (sysadmin, audit admin)


_ORG_SCOPES = (ScopeKind.CITY, ScopeKind.SUBTREE, ScopeKind.OWN_UNION)
_WIDTH = [ScopeKind.CITY, ScopeKind.SUBTREE, ScopeKind.OWN_UNION, ScopeKind.OWN_MERCHANT,
          ScopeKind.OWN_BASE, ScopeKind.OWN_MEMBER_UNIT, ScopeKind.SELF, ScopeKind.NONE]


def current_user():
    """The logged-in user of this request, or None."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def scope_kind(user) -> ScopeKind:
    """The widest scope kind among the user's roles (``none`` when anonymous)."""
    if user is None:
        return ScopeKind.NONE
    role_defs = current_app.extensions["union_roles"]
    kinds = [role_defs[r.name].scope for r in user.roles if r.name in role_defs]
    if not kinds:
        return ScopeKind.NONE
    return min(kinds, key=_WIDTH.index)


def org_ids_in_scope(user):
    """A SELECT of the org ids the user may see, or None when no org is visible."""
    kind = scope_kind(user)
    if kind not in _ORG_SCOPES or not user.org_id:
        return None
    if kind == ScopeKind.OWN_UNION:
        return select(Org.id).where(Org.id == user.org_id)
    # A constant prefix lets SQLite and PostgreSQL turn LIKE into an index range scan.
    path = _org_path(user)
    return select(Org.id).where(Org.path.like(path + "%")) if path else None


def _org_path(user) -> str:
    cache = g.setdefault("_org_paths", {}) if has_request_context() else {}
    if user.org_id not in cache:
        from app.extensions import db

        cache[user.org_id] = db.session.scalar(select(Org.path).where(Org.id == user.org_id)) or ""
    return cache[user.org_id]


def org_scope_clause(column, user):
    """SQL condition: ``column`` (an org id) lies in the user's org scope."""
    ids = org_ids_in_scope(user)
    return false() if ids is None else column.in_(ids)


def org_in_scope(session, org_id, user) -> bool:
    if org_id is None:
        return False
    ids = org_ids_in_scope(user)
    if ids is None:
        return False
    return session.execute(select(true()).where(Org.id == org_id, Org.id.in_(ids))).first() is not None


def member_unit_scope_clause(column, user):
    """SQL condition: ``column`` (a member unit id) is the unit the user handles."""
    member_unit_id = getattr(user, "member_unit_id", None) if user is not None else None
    return column == member_unit_id if member_unit_id else false()


def base_scope_clause(column, user):
    """SQL condition: ``column`` (a recuperation base id) is the base the user manages (own_base)."""
    base_id = getattr(user, "recup_base_id", None) if user is not None else None
    return column == base_id if base_id else false()


def scope_clause(org_column, user, *, merchant_column=None, member_unit_column=None, base_column=None):
    """The user's scope on a row owned by an org, a merchant, a member unit or a recuperation base
    (whichever his scope kind names; a kind the row has no column for sees nothing)."""
    kind = scope_kind(user)
    if kind == ScopeKind.OWN_BASE:
        return base_scope_clause(base_column, user) if base_column is not None else false()
    if kind == ScopeKind.OWN_MERCHANT and merchant_column is not None:
        merchant_id = getattr(user, "merchant_id", None)
        return merchant_column == merchant_id if merchant_id else false()
    if kind == ScopeKind.OWN_MEMBER_UNIT:
        return member_unit_scope_clause(member_unit_column, user) if member_unit_column is not None else false()
    return org_scope_clause(org_column, user)


class FilterInScope(BaseFilter):
    """FAB base filter for rows owned by an org, a merchant or a member unit, whichever the
    user's scope kind names: ``[["org_id", FilterInScope, ScopeArgs("merchant_id")]]``."""

    name = "在权限范围内"
    arg_name = "scope"

    def apply(self, query, value):
        user, merchant_column, member_unit_column, *rest = value()
        column = getattr(self.model, merchant_column) if merchant_column else None
        unit_column = getattr(self.model, member_unit_column) if member_unit_column else None
        base_column = getattr(self.model, rest[0]) if rest and rest[0] else None
        return query.filter(scope_clause(getattr(self.model, self.column_name), user, merchant_column=column,
                                         member_unit_column=unit_column, base_column=base_column))


class ScopeArgs:
    """The value of a FilterInScope: the current user and the model's merchant / member-unit / base column."""

    def __init__(self, merchant_column: str | None = None, member_unit_column: str | None = None,
                 base_column: str | None = None):
        self.merchant_column = merchant_column
        self.member_unit_column = member_unit_column
        self.base_column = base_column

    def __call__(self):
        return current_user(), self.merchant_column, self.member_unit_column, self.base_column
