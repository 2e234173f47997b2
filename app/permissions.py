"""permissions.yaml → FAB roles. The sync adds and removes, so the yaml is the truth.

Grant shorthands: ``list show add edit delete download`` and every custom
permission are written without FAB's ``can_`` prefix; menu access is derived
from ``list`` (the view's menu item and its category).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.security import ScopeKind

# FAB permissions that carry no "can_" prefix (its own actions)
_RAW = {"menu_access", "resetmypassword", "resetpasswords", "userinfoedit", "copyrole"}


@dataclass
class RoleDef:
    key: str
    label: str
    scope: ScopeKind
    duty: str = "business"  # system / audit / business: never two on one account (app/services/duties.py)
    grants: dict[str, list[str]] = field(default_factory=dict)
    menus: list[str] = field(default_factory=list)

    def permission_pairs(self) -> set[tuple[str, str]]:
        """(permission name, view name) pairs, FAB spelling."""
        return {(perm_name(p), view) for view, perms in self.grants.items() for p in perms} | {
            ("menu_access", m) for m in self.menus
        }


def perm_name(short: str) -> str:
    return short if short in _RAW or short.startswith("can_") else f"can_{short}"


def load_roles(path: str | Path) -> dict[str, RoleDef]:
    """Parse the yaml into RoleDefs keyed by the FAB role name (the Chinese label)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    common = data.get("common", {})
    roles = {}
    for key, spec in data["roles"].items():
        grants = {view: list(perms) for view, perms in (spec.get("grants") or {}).items()}
        for view, perms in common.items():
            grants.setdefault(view, [])
            grants[view] = sorted(set(grants[view]) | set(perms))
        role = RoleDef(key=key, label=spec["label"], scope=ScopeKind(spec["scope"]),
                       duty=spec.get("duty", "business"), grants=grants,
                       menus=list(spec.get("menus") or []))
        roles[role.label] = role
    return roles


def menu_names_for(appbuilder, view_names: set[str]) -> set[str]:
    """Menu items (and their categories) that open one of ``view_names``."""
    names = set()
    for category in appbuilder.menu.get_list():
        for item in category.childs or [category]:
            view = item.baseview
            if view is not None and view.class_permission_name in view_names:
                names.add(item.name)
                if category is not item:
                    names.add(category.name)
    return names


def sync_roles(appbuilder, roles: dict[str, RoleDef]) -> dict[str, int]:
    """Make FAB's role tables equal to ``roles``: add missing grants, remove others.

    Idempotent; returns counts of added and removed permission-role links.
    """
    sm = appbuilder.sm
    appbuilder.add_permissions(update_perms=True)
    added = removed = 0
    for label, role_def in roles.items():
        role = sm.find_role(label) or sm.add_role(label)
        listed = {v for v, perms in role_def.grants.items() if "list" in perms}
        wanted = role_def.permission_pairs() | {("menu_access", m) for m in menu_names_for(appbuilder, listed)}
        have = {(pv.permission.name, pv.view_menu.name): pv for pv in role.permissions
                if pv.permission and pv.view_menu}
        for pair in wanted - set(have):
            pv = sm.find_permission_view_menu(*pair)
            if pv is None:
                raise KeyError(f"permissions.yaml grants {pair[0]} on {pair[1]}, which the app does not register")
            sm.add_permission_role(role, pv)
            added += 1
        for pair in set(have) - wanted:
            sm.del_permission_role(role, have[pair])
            removed += 1
    sm.forget_grants()
    return {"added": added, "removed": removed}
