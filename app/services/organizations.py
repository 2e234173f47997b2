"""组织与单位 rules: the org tree's materialized path, unit validation, fuzzy search."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services.errors import DomainError
from app.validators import ValidationError, normalize_text, validate_mobile, validate_uscc
from models.organizations import Org, OrgLevel, Unit

_CHILD_LEVEL = {None: OrgLevel.CITY, OrgLevel.CITY: OrgLevel.COUNTY, OrgLevel.COUNTY: OrgLevel.BASE}


def set_org_path(session: Session, org: Org) -> None:
    """Give a (flushed) org its path ``<parent path><id>/`` and depth."""
    if org.id is None:
        session.flush()
    parent = session.get(Org, org.parent_id) if org.parent_id else None
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    org.depth = parent.depth + 1 if parent else 0


def create_org(session: Session, *, name: str, parent: Org | None, code: str | None = None,
               level: str | None = None, commit: bool = True, **fields) -> Org:
    """Create an org under ``parent``; the level follows the parent unless given.

    Raises:
        DomainError: a base union cannot have children.
    """
    if parent is not None and parent.level == OrgLevel.BASE:
        raise DomainError("基层工会下不能再建下级工会")
    org = Org(name=normalize_text(name), parent_id=parent.id if parent else None, code=code,
              level=level or _CHILD_LEVEL.get(parent.level if parent else None, OrgLevel.BASE), **fields)
    session.add(org)
    session.flush()
    set_org_path(session, org)
    if commit:
        session.commit()
    return org


def prepare_org(session: Session, org: Org) -> None:
    """Validate and normalize a form-edited org (its parent is fixed once created).

    Raises:
        DomainError: bad USCC or phone.
    """
    _normalize_contacts(org)


def _normalize_contacts(obj) -> None:
    try:
        if getattr(obj, "uscc", None):
            obj.uscc = validate_uscc(obj.uscc)
        if getattr(obj, "phone", None) and normalize_text(obj.phone).startswith("1"):
            obj.phone = validate_mobile(obj.phone)
    except ValidationError as err:
        raise DomainError(str(err)) from None


def prepare_unit(session: Session, unit: Unit) -> None:
    """Validate a unit: USCC check character, phone, counts, a base union as owner.

    Raises:
        DomainError: with the first Chinese message.
    """
    _normalize_contacts(unit)
    org = session.get(Org, unit.org_id) if unit.org_id else unit.org
    if org is None or org.level != OrgLevel.BASE:
        raise DomainError("单位须隶属于一个基层工会")
    if (unit.employee_count or 0) < 0 or (unit.migrant_count or 0) < 0:
        raise DomainError("职工人数不能为负数")
    if (unit.migrant_count or 0) > (unit.employee_count or 0):
        raise DomainError("农民工人数不能超过职工人数")


def check_unit_deletable(session: Session, unit: Unit) -> None:
    """A unit with members cannot be deleted.

    Raises:
        DomainError: with the number of members still in it.
    """
    from models.members import Member

    count = session.scalar(select(func.count(Member.id)).where(Member.unit_id == unit.id))
    if count:
        raise DomainError(f"该单位下还有 {count} 名会员，不能删除")


def search_orgs(session: Session, user, text: str, limit: int = 50) -> list[Org]:
    """Fuzzy search by name inside the user's scope (substring, any order of words)."""
    stmt = select(Org).where(org_scope_clause(Org.id, user))
    for word in normalize_text(text).split():
        stmt = stmt.where(Org.name.contains(word, autoescape=True))
    return list(session.scalars(stmt.order_by(Org.path).limit(limit)))


def org_tree(session: Session, user, matches: list[Org] | None = None) -> list[Org]:
    """Orgs of the user's scope in tree order; with ``matches``, only them and their ancestors."""
    stmt = select(Org).where(org_scope_clause(Org.id, user)).order_by(Org.path)
    orgs = list(session.scalars(stmt))
    if matches is None:
        return orgs
    keep = {int(i) for m in matches for i in m.path.strip("/").split("/")}
    return [o for o in orgs if o.id in keep]
