"""统计: the figures seed 003 asks unions to watch, per org of a scope, in a few grouped queries.

Read-only: nothing here writes or commits. Every function takes the scope as a SELECT of org ids
(``app.security.org_ids_in_scope``), so the city sees every county, a county its subtree and a base
union itself. Counts are GROUP BY queries over indexed columns; Python only touches one row per org
(or per day / activity), never one per member or voucher.

- 实名认证进度: members 在会 per union, by certification status, % certified;
- 活动: activities per publishing union, by review status;
- 券码: vouchers generated / claimed / redeemed / expired, face value redeemed (Decimal, to the fen);
- per day: claims and redemptions (Beijing days); per activity: generated / claimed / redeemed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from app.services.vouchers import money
from models.base import DISPLAY_TZ, utcnow
from models.members import CertStatus, Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.vouchers import Activity, ActivityStatus, Voucher, VoucherStatus

TENTH = Decimal("0.1")


class beijing_date(FunctionElement):  # named like the SQL function it stands for
    """The Beijing calendar day of a UTC timestamp column, computed by the database."""

    type = Date()
    inherit_cache = True


@compiles(beijing_date, "sqlite")
def _beijing_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(beijing_date)
def _beijing_date_default(element, compiler, **kw):  # PostgreSQL
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai') AS DATE)"


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, half-up to one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class OrgFigures:
    """One row of the statistics table: an org (or a county's subtree, or the total)."""

    org_id: int | None
    name: str
    level: str
    path: str = ""
    members: int = 0          # 在会 members
    verified: int = 0         # 已认证
    pending: int = 0          # 待审核
    rejected: int = 0         # 驳回
    unverified: int = 0       # 未认证
    activities: dict = field(default_factory=dict)  # ActivityStatus value -> count
    generated: int = 0        # vouchers generated
    claimed: int = 0          # claimed by a member (whatever became of them)
    redeemed: int = 0         # 已核销
    expired: int = 0          # 已过期
    redeemed_value: Decimal = field(default_factory=lambda: Decimal("0.00"))

    @property
    def level_label(self) -> str:
        return OrgLevel.label_of(self.level) if self.level else ""

    @property
    def certified_pct(self) -> Decimal | None:
        return percent(self.verified, self.members)

    @property
    def activity_total(self) -> int:
        return sum(self.activities.values())

    def activity(self, status: str) -> int:
        return self.activities.get(status, 0)

    def add(self, other: OrgFigures) -> None:
        for name in ("members", "verified", "pending", "rejected", "unverified", "generated", "claimed",
                     "redeemed", "expired"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.redeemed_value += other.redeemed_value
        for status, count in other.activities.items():
            self.activities[status] = self.activities.get(status, 0) + count


def certification_counts(session: Session, org_ids) -> dict[int, dict[str, int]]:
    """{org id: {cert status: members 在会}} for the orgs of ``org_ids``."""
    rows = session.execute(
        select(Member.org_id, Member.cert_status, func.count())
        .where(Member.org_id.in_(org_ids), Member.status == MembershipStatus.ACTIVE)
        .group_by(Member.org_id, Member.cert_status))
    out: dict[int, dict[str, int]] = {}
    for org_id, status, count in rows:
        out.setdefault(org_id, {})[status] = count
    return out


def activity_status_counts(session: Session, org_ids) -> dict[int, dict[str, int]]:
    """{publishing org id: {review status: activities}}."""
    rows = session.execute(select(Activity.org_id, Activity.status, func.count())
                           .where(Activity.org_id.in_(org_ids)).group_by(Activity.org_id, Activity.status))
    out: dict[int, dict[str, int]] = {}
    for org_id, status, count in rows:
        out.setdefault(org_id, {})[status] = count
    return out


def voucher_counts(session: Session, org_ids) -> dict[int, tuple[int, int, int, int, Decimal]]:
    """{activity's org id: (generated, claimed, redeemed, expired, face value redeemed)}."""
    redeemed = Voucher.status == VoucherStatus.REDEEMED
    rows = session.execute(
        select(Voucher.org_id, func.count(), func.count(Voucher.claimed_at),
               func.count(case((redeemed, 1))), func.count(case((Voucher.status == VoucherStatus.EXPIRED, 1))),
               func.sum(case((redeemed, Voucher.face_value))))  # frozen at generation: what settlement sums
        .where(Voucher.org_id.in_(org_ids)).group_by(Voucher.org_id))
    return {org_id: (n, claimed, done, expired, money(value or 0)) for org_id, n, claimed, done, expired, value in rows}


@dataclass
class StatTable:
    rows: list[OrgFigures]
    total: OrgFigures
    counties: int  # county-level orgs in the scope: folding into counties makes sense from 2 on


def union_figures(session: Session, org_ids, *, by_county: bool = False) -> StatTable:
    """The statistics table of a scope: one row per org (tree order), and the total row.

    Base unions are listed even without members (a union that has not started shows 0); higher
    orgs only when they hold members, activities or vouchers of their own. ``by_county`` folds
    every org into its county-level ancestor (the city's view of its districts).
    """
    orgs = session.execute(select(Org.id, Org.name, Org.level, Org.path, Org.depth)
                           .where(Org.id.in_(org_ids), Org.level != OrgLevel.PENDING).order_by(Org.path)).all()
    certs = certification_counts(session, org_ids)
    activities = activity_status_counts(session, org_ids)
    vouchers = voucher_counts(session, org_ids)
    rows = []
    for org_id, name, level, path, _depth in orgs:
        row = OrgFigures(org_id, name, level, path)
        by_status = certs.get(org_id, {})
        row.verified = by_status.get(CertStatus.VERIFIED, 0)
        row.pending = by_status.get(CertStatus.PENDING, 0)
        row.rejected = by_status.get(CertStatus.REJECTED, 0)
        row.unverified = by_status.get(CertStatus.UNVERIFIED, 0)
        row.members = sum(by_status.values())
        row.activities = dict(activities.get(org_id, {}))
        row.generated, row.claimed, row.redeemed, row.expired, row.redeemed_value = vouchers.get(
            org_id, (0, 0, 0, 0, Decimal("0.00")))
        if level == OrgLevel.BASE or row.members or row.activity_total or row.generated:
            rows.append(row)
    if by_county:
        rows = _fold_into_counties(rows, {o.id: o for o in orgs})
    total = OrgFigures(None, "合计", "")
    for row in rows:
        total.add(row)
    return StatTable(rows, total, sum(1 for o in orgs if o.level == OrgLevel.COUNTY))


def _fold_into_counties(rows: list[OrgFigures], orgs: dict) -> list[OrgFigures]:
    """Each row added into its county-level ancestor (orgs above county level stay themselves)."""
    folded: dict[int, OrgFigures] = {}
    for row in rows:
        ancestors = [int(part) for part in row.path.strip("/").split("/") if part]
        county_id = next((a for a in ancestors if a in orgs and orgs[a].level == OrgLevel.COUNTY), row.org_id)
        county = orgs.get(county_id)
        target = folded.setdefault(county_id, OrgFigures(county_id, county.name if county else row.name,
                                                         county.level if county else row.level,
                                                         county.path if county else row.path))
        target.add(row)
    return sorted(folded.values(), key=lambda r: r.path)


@dataclass(frozen=True)
class DayFigures:
    day: date
    claimed: int
    redeemed: int


def daily_claims(session: Session, vouchers, *, days: int = 14, now: datetime | None = None) -> list[DayFigures]:
    """Claims and redemptions per Beijing day over the last ``days`` days (today included) of the
    vouchers matching ``vouchers`` (an SQL condition: the scope's orgs, or one merchant's)."""
    today = (now or utcnow()).astimezone(DISPLAY_TZ).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=DISPLAY_TZ)

    def per_day(column) -> dict[date, int]:
        day = beijing_date(column)
        rows = session.execute(select(day, func.count()).where(vouchers, column >= since)
                               .group_by(day))
        return {_as_date(d): n for d, n in rows}

    claimed, redeemed = per_day(Voucher.claimed_at), per_day(Voucher.redeemed_at)
    return [DayFigures(d, claimed.get(d, 0), redeemed.get(d, 0))
            for d in (first + timedelta(days=i) for i in range(days))]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class ActivityFigures:
    activity_id: int
    title: str
    status: str
    generated: int
    claimed: int
    redeemed: int


def activity_progress(session: Session, org_ids, *, limit: int = 10) -> list[ActivityFigures]:
    """The latest approved activities of the scope with their vouchers generated / claimed / redeemed."""
    activities = session.execute(
        select(Activity.id, Activity.title, Activity.status)
        .where(Activity.org_id.in_(org_ids), Activity.status == ActivityStatus.APPROVED)
        .order_by(Activity.id.desc()).limit(limit)).all()
    if not activities:
        return []
    counts = {r[0]: r[1:] for r in session.execute(
        select(Voucher.activity_id, func.count(), func.count(Voucher.claimed_at),
               func.count(case((Voucher.status == VoucherStatus.REDEEMED, 1))))
        .where(Voucher.activity_id.in_([a.id for a in activities])).group_by(Voucher.activity_id))}
    return [ActivityFigures(a.id, a.title, a.status, *counts.get(a.id, (0, 0, 0))) for a in activities]


def sort_rows(rows: Iterable[OrgFigures], key: str, descending: bool) -> list[OrgFigures]:
    """Rows sorted on one figure; rows without a value (no members → no %) always last."""
    def value(row):
        if key.startswith("activity_"):
            return row.activity(key[len("activity_"):])
        return getattr(row, key)

    rows = list(rows)
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=descending) + missing
