"""服务卡统计 per county and base union: members, cards by status, registrations and fees per
period, benefits paid — one grouped query per figure, in the actor's scope."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services.service_cards.coverage import funded_clause
from models.members import Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.service_cards import (
    CardBenefitClaim,
    CardStatus,
    ClaimStatus,
    CoverageRegistration,
    ServiceCard,
)


@dataclass
class StatsTable:
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def card_statistics(session: Session, *, actor) -> StatsTable:
    """One row per base union in scope (with its county), then one total row per county."""
    unions = session.execute(select(Org.id, Org.name, Org.parent_id).where(
        org_scope_clause(Org.id, actor), Org.level == OrgLevel.BASE).order_by(Org.path)).all()
    parents = dict(session.execute(select(Org.id, Org.name).where(Org.id.in_({u.parent_id for u in unions}))).all()) \
        if unions else {}
    ids = [u.id for u in unions]
    members = dict(session.execute(select(Member.org_id, func.count()).where(
        Member.org_id.in_(ids), Member.status == MembershipStatus.ACTIVE).group_by(Member.org_id)).all()) if ids else {}
    by_status: dict[tuple[int, str], int] = {}
    for org_id, status, count in (session.execute(select(ServiceCard.org_id, ServiceCard.status, func.count())
                                                  .where(ServiceCard.org_id.in_(ids))
                                                  .group_by(ServiceCard.org_id, ServiceCard.status)) if ids else []):
        by_status[(org_id, status)] = count
    periods: dict[int, list[str]] = {}
    regs: dict[int, tuple[int, Decimal]] = {}
    for org_id, start, end, count, fees in (session.execute(
            select(CoverageRegistration.org_id, CoverageRegistration.period_start, CoverageRegistration.period_end,
                   func.count(), func.sum(CoverageRegistration.fee))
            .where(CoverageRegistration.org_id.in_(ids), funded_clause())
            .group_by(CoverageRegistration.org_id, CoverageRegistration.period_start, CoverageRegistration.period_end)
            .order_by(CoverageRegistration.period_start)) if ids else []):
        periods.setdefault(org_id, []).append(f"{start:%Y-%m-%d}至{end:%Y-%m-%d}：{count}人/{Decimal(fees):.2f}元")
        n, total = regs.get(org_id, (0, Decimal("0")))
        regs[org_id] = (n + count, total + Decimal(fees))
    paid = {org_id: (count, Decimal(total)) for org_id, count, total in (session.execute(
        select(CardBenefitClaim.org_id, func.count(), func.sum(CardBenefitClaim.amount))
        .where(CardBenefitClaim.org_id.in_(ids), CardBenefitClaim.status == ClaimStatus.PAID)
        .group_by(CardBenefitClaim.org_id)) if ids else [])}
    statuses = list(CardStatus)
    table = StatsTable(["区县局(产业)工会", "基层工会", "在会会员", *[f"卡·{s.label}" for s in statuses],
                        "保障注册人数", "保障费用（元）", "各保障期注册", "已给付笔数", "已给付金额（元）"])
    totals: dict[str, list] = {}
    for union in unions:
        county = parents.get(union.parent_id, "")
        n_regs, fees = regs.get(union.id, (0, Decimal("0")))
        n_paid, amount = paid.get(union.id, (0, Decimal("0")))
        numbers = [members.get(union.id, 0), *[by_status.get((union.id, s.value), 0) for s in statuses],
                   n_regs, fees.quantize(Decimal("0.01")), n_paid, amount.quantize(Decimal("0.01"))]
        table.rows.append([county, union.name, *numbers[:-2], "；".join(periods.get(union.id, [])), *numbers[-2:]])
        total = totals.setdefault(county, [0] * len(numbers))
        totals[county] = [a + b for a, b in zip(total, numbers)]
    for county, numbers in totals.items():
        table.rows.append([county, "合计", *numbers[:-2], "", *numbers[-2:]])
    return table
