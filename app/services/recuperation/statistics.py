"""疗休养统计: per base union and per county, declarations by type (本年度不参加 included) against
members; the products' reserved quantity against capacity per date."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.security import org_ids_in_scope
from models.members import Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.recuperation import Declaration, DeclarationStatus, RecupType

COUNTED = (DeclarationStatus.SUBMITTED, DeclarationStatus.UNIT_APPROVED, DeclarationStatus.GROUPED,
           DeclarationStatus.TRAVELLING, DeclarationStatus.COMPLETED)


@dataclass
class Row:
    org_id: int
    name: str
    county: str
    members: int = 0
    by_type: dict = field(default_factory=dict)
    planned_total: Decimal = Decimal("0.00")

    @property
    def declared(self) -> int:
        return sum(self.by_type.values())

    @property
    def not_declared(self) -> int:
        return max(self.members - self.declared, 0)

    def values(self) -> list:
        return [self.name, self.county, self.members, *[self.by_type.get(t.value, 0) for t in RecupType],
                self.declared, self.not_declared, self.planned_total]


TITLES = ["工会", "所属区县", "在会会员", *[t.label for t in RecupType], "已上报合计", "未申报", "计划金额合计（元）"]


def declaration_table(session: Session, user, year: int, *, by_county: bool = False) -> tuple[list[Row], Row]:
    """Rows per base union in the user's scope (or per county), and the total row. Submitted plans
    count (a cancelled or draft plan does not); members are 在会 members."""
    ids = org_ids_in_scope(user)
    if ids is None:
        return [], Row(0, "合计", "")
    unions = session.execute(select(Org.id, Org.name, Org.path).where(Org.id.in_(ids), Org.level == OrgLevel.BASE)
                             .order_by(Org.path)).all()
    counties = {o.id: o.name for o in session.scalars(select(Org).where(Org.level == OrgLevel.COUNTY))}

    def county_of(path: str):
        for part in (path or "").strip("/").split("/"):
            if part and int(part) in counties:
                return int(part), counties[int(part)]
        return 0, ""

    rows = {u.id: Row(u.id, u.name, county_of(u.path)[1]) for u in unions}
    for org_id, n in session.execute(select(Member.org_id, func.count(Member.id)).where(
            Member.org_id.in_(ids), Member.status == MembershipStatus.ACTIVE).group_by(Member.org_id)):
        if org_id in rows:
            rows[org_id].members = n
    for org_id, dtype, n, total in session.execute(
            select(Declaration.org_id, Declaration.type, func.count(Declaration.id),
                   func.coalesce(func.sum(Declaration.planned_total), 0))
            .where(Declaration.year == year, Declaration.org_id.in_(ids), Declaration.status.in_(COUNTED))
            .group_by(Declaration.org_id, Declaration.type)):
        if org_id in rows:
            rows[org_id].by_type[dtype] = n
            rows[org_id].planned_total += Decimal(total)
    result = list(rows.values())
    if by_county:
        grouped: dict[str, Row] = {}
        for u in unions:
            cid, cname = county_of(u.path)
            target = grouped.setdefault(cname, Row(cid, cname or "（未归属区县）", f"{sum(1 for x in unions if county_of(x.path)[1] == cname)} 个基层工会"))
            _add(target, rows[u.id])
        result = list(grouped.values())
    total = Row(0, "合计", "")
    for row in result:
        _add(total, row)
    return result, total


def _add(target: Row, row: Row) -> None:
    target.members += row.members
    target.planned_total += row.planned_total
    for key, n in row.by_type.items():
        target.by_type[key] = target.by_type.get(key, 0) + n
