"""年度注册 / 专享基本保障 (S002:L56–63): the coverage period and fee of a registration date, the
registration of a batch's members, the funding report (headcount × fee per union and period)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.database import fast_insert
from app.security import org_scope_clause
from models.base import DISPLAY_TZ, utcnow
from models.organizations import Org
from models.service_cards import CoverageRegistration, CoverageStatus

FEE_YEAR = Decimal("24.00")       # 24 元/人/年: registered in the first half year
FEE_HALF_YEAR = Decimal("12.00")  # 12 元/人/半年: registered in the second half year
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    fee: Decimal


def coverage_period(registered_on: date) -> Period:
    """The period and fee of a registration made on ``registered_on`` (a Beijing date).

    Rules (S002:L61–63, A-14): January–June → 1 July this year to 30 June next year, 24.00;
    July–December → 1 January to 30 June next year, 12.00. Never from the registration date.
    """
    year = registered_on.year
    if registered_on.month <= 6:
        return Period(date(year, 7, 1), date(year + 1, 6, 30), FEE_YEAR)
    return Period(date(year + 1, 1, 1), date(year + 1, 6, 30), FEE_HALF_YEAR)


def beijing_date(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(DISPLAY_TZ).date()


def register_members(session: Session, members: list[tuple[int, int]], *, registered_on: date,
                     batch_id: int | None = None) -> tuple[int, int]:
    """Register ``(member id, funding union id)`` pairs for the period of ``registered_on``; a member
    whose registrations already overlap that period is skipped (no overlapping periods). No commit.

    Returns (registered, skipped)."""
    period = coverage_period(registered_on)
    ids = [m for m, _org in members]
    overlapping = set()
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start:chunk_start + 5000]
        overlapping.update(session.scalars(
            select(CoverageRegistration.member_id).where(
                CoverageRegistration.member_id.in_(chunk),
                CoverageRegistration.status == CoverageStatus.ACTIVE,
                CoverageRegistration.period_start <= period.end,
                CoverageRegistration.period_end >= period.start)))
    now = utcnow()
    rows = [{"member_id": m, "org_id": org, "batch_id": batch_id, "registered_on": registered_on,
             "period_start": period.start, "period_end": period.end, "fee": period.fee,
             "status": CoverageStatus.ACTIVE.value, "created_at": now}
            for m, org in dict(members).items() if m not in overlapping]
    if rows:
        fast_insert(session, CoverageRegistration.__table__, rows)
    return len(rows), len(members) - len(rows)


def coverage_on(session: Session, member_id: int, day: date) -> CoverageRegistration | None:
    """The registration whose period contains ``day``: an active one, or one terminated when the
    membership ended after ``day`` (the days before the termination stay covered)."""
    return session.scalars(select(CoverageRegistration).where(
        CoverageRegistration.member_id == member_id,
        (CoverageRegistration.status == CoverageStatus.ACTIVE)
        | ((CoverageRegistration.status == CoverageStatus.TERMINATED) & (CoverageRegistration.terminated_on > day)),
        CoverageRegistration.period_start <= day, CoverageRegistration.period_end >= day)).first()


def funded_clause():
    """Registrations whose fee is borne: active ones, and terminated ones whose period had started
    (the fee is per period, never prorated by day); one terminated before its period began is not."""
    return (CoverageRegistration.status == CoverageStatus.ACTIVE) | (
        (CoverageRegistration.status == CoverageStatus.TERMINATED)
        & (CoverageRegistration.terminated_on > CoverageRegistration.period_start))


def terminate_coverage(session: Session, member_ids: list[int], *, on: date) -> int:
    """End the registrations of members whose membership ended on ``on`` (no commit): a period still
    running covers the days before ``on``; a period not begun yet covers nothing and costs nothing."""
    if not member_ids:
        return 0
    result = session.execute(update(CoverageRegistration).where(
        CoverageRegistration.member_id.in_(member_ids), CoverageRegistration.status == CoverageStatus.ACTIVE,
        CoverageRegistration.period_end >= on).values(status=CoverageStatus.TERMINATED.value, terminated_on=on)
        .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


@dataclass(frozen=True)
class FundingLine:
    org_id: int
    org_name: str
    period_start: date
    period_end: date
    fee: Decimal
    headcount: int
    amount: Decimal
    city_part: Decimal = Decimal("0.00")   # borne by the city federation (the setting's share)
    union_part: Decimal = Decimal("0.00")  # borne by the union(s) below


def city_share(value) -> Decimal:
    """The city federation's share of the fee (a setting, 0–1); an unusable setting means 0."""
    try:
        share = Decimal(str(value))
    except ArithmeticError:
        return Decimal("0")
    return share if Decimal("0") <= share <= Decimal("1") else Decimal("0")


def funding_report(session: Session, *, actor, period_start: date | None = None,
                   share: Decimal = Decimal("0")) -> list[FundingLine]:
    """保障费用 per funding union and period: headcount × fee (Decimal, to the fen), in the actor's scope;
    ``share`` of it borne by the city federation (rounded once, the union's part is the rest)."""
    stmt = (select(CoverageRegistration.org_id, Org.name, CoverageRegistration.period_start,
                   CoverageRegistration.period_end, CoverageRegistration.fee, func.count())
            .join(Org, Org.id == CoverageRegistration.org_id)
            .where(org_scope_clause(CoverageRegistration.org_id, actor), funded_clause())
            .group_by(CoverageRegistration.org_id, Org.name, CoverageRegistration.period_start,
                      CoverageRegistration.period_end, CoverageRegistration.fee)
            .order_by(CoverageRegistration.period_start, Org.name))
    if period_start is not None:
        stmt = stmt.where(CoverageRegistration.period_start == period_start)
    lines = []
    for org_id, name, start, end, fee, count in session.execute(stmt):
        amount = (Decimal(fee) * count).quantize(FEN, rounding=ROUND_HALF_UP)
        city = (amount * share).quantize(FEN, rounding=ROUND_HALF_UP)
        lines.append(FundingLine(org_id, name, start, end, Decimal(fee), count, amount, city, amount - city))
    return lines


def register_union(session: Session, *, actor, at: datetime | None = None) -> tuple[int, int]:
    """年度集体注册 (S002:L56): the actor's base union registers its members holding a card (not
    注销) for the period of today's date (Beijing); members already covered then are skipped.

    Raises:
        DomainError: the actor is not bound to a base union.
    """
    from app.services.errors import DomainError
    from models.organizations import OrgLevel
    from models.service_cards import ACTIVE_CARD, ServiceCard

    org = session.get(Org, getattr(actor, "org_id", None) or 0)
    if org is None or org.level != OrgLevel.BASE:
        raise DomainError("年度注册由基层工会办理")
    members = session.execute(select(ServiceCard.member_id, ServiceCard.org_id).where(
        ServiceCard.org_id == org.id, ServiceCard.status.in_(ACTIVE_CARD))).all()
    result = register_members(session, [(m, o) for m, o in members], registered_on=beijing_date(at))
    session.commit()
    return result
