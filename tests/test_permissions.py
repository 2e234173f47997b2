"""permissions.yaml ↔ the app: every grant exists, every view is granted or
listed as ungranted on purpose, and the sync adds and removes idempotently."""
from pathlib import Path

import yaml
from flask import current_app

from app.permissions import load_roles, perm_name, sync_roles

YAML = Path(__file__).resolve().parent.parent / "permissions.yaml"


def _registered(app):
    views = {}
    for view in app.appbuilder.baseviews:
        views.setdefault(view.class_permission_name, set()).update(view.base_permissions or [])
    return views


def test_yaml_names_only_registered_views_and_permissions(app):
    registered = _registered(app)
    for role in load_roles(YAML).values():
        for view, perms in role.grants.items():
            assert view in registered, f"{role.label}: view {view} is not registered"
            for p in perms:
                assert perm_name(p) in registered[view], f"{role.label}: {view}.{p} is not registered"


def test_every_registered_view_is_granted_or_listed_ungranted(app):
    roles = load_roles(YAML)
    granted = {view for r in roles.values() for view, perms in r.grants.items() if perms}
    ungranted = set(yaml.safe_load(YAML.read_text(encoding="utf-8"))["ungranted"])
    orphans = set(_registered(app)) - granted - ungranted
    assert not orphans, f"views granted to nobody: {sorted(orphans)}"
    assert not granted & ungranted


def test_sync_roles_is_idempotent_and_removes_foreign_grants(ctx):
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    roles = current_app.extensions["union_roles"]
    auditor = sm.find_role("审计员")
    sm.add_permission_role(auditor, sm.find_permission_view_menu("can_delete", "MemberView"))
    assert sync_roles(appbuilder, roles) == {"added": 0, "removed": 1}
    assert sync_roles(appbuilder, roles) == {"added": 0, "removed": 0}
    names = {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role("审计员").permissions}
    assert ("can_delete", "MemberView") not in names
    assert ("can_list", "MemberView") in names


def test_every_design_role_exists_with_its_scope(app):
    roles = load_roles(YAML)
    scopes = {r.label: str(r.scope) for r in roles.values()}
    assert scopes == {
        "系统管理员": "none", "审计管理员": "none", "市总工会管理员": "city", "区县工会管理员": "subtree",
        "基层工会管理员": "own_union", "业务审核员": "subtree", "财务": "subtree", "商家管理员": "own_merchant",
        "基地管理员": "own_base", "审计员": "subtree", "会员": "self",
        "会员单位经办人": "own_member_unit", "办事处业务人员": "subtree",
    }
