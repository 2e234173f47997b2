"""The yearly policy: window (Beijing calendar days), types allowed to a member, the budget."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.caches import RowCache
from app.services.errors import DomainError
from models.base import DISPLAY_TZ, utcnow
from models.members import Member
from models.organizations import Org, OrgLevel
from models.recuperation import FrontlineRoster, RecuperationPolicy, RecupType

DEFAULT_COMMITMENT = ("本人承诺：如实填报疗休养计划，按申报日期出行；计划金额超出参考标准的部分由本人自理；"
                      "遵守疗休养纪律，注意出行安全。")


class WindowClosedError(DomainError):
    code = "window_closed"


def beijing_now(now: datetime | None = None) -> datetime:
    return (now or utcnow()).astimezone(DISPLAY_TZ)


def beijing_today(now: datetime | None = None) -> date:
    return beijing_now(now).date()


def default_policy(year: int) -> RecuperationPolicy:
    """A new year's policy: opens 10 January (S000:L58), closes 31 December (A-18), every type, 400."""
    policy = RecuperationPolicy(year=year, opens_on=date(year, 1, 10), closes_on=date(year, 12, 31),
                                budget=Decimal("400.00"), entitlement=Decimal("400.00"),
                                commitment_text=DEFAULT_COMMITMENT)
    policy.allowed_types = [t.value for t in RecupType]
    return policy


def validate_policy(policy: RecuperationPolicy) -> None:
    """Raises DomainError: year out of range, window out of order or outside the year, no type, bad amounts."""
    if policy.year is None or not 2000 <= int(policy.year) <= 2100:
        raise DomainError("年度须在 2000 至 2100 之间", field="year")
    if policy.opens_on is None:
        policy.opens_on = date(policy.year, 1, 10)
    if policy.opens_on.year != policy.year or (policy.closes_on and policy.closes_on.year != policy.year):
        raise DomainError("申报开放与截止日期须在本年度内", field="opens_on")
    if policy.closes_on and policy.closes_on < policy.opens_on:
        raise DomainError("截止日期不能早于开放日期", field="closes_on")
    if not policy.allowed_types:
        raise DomainError("请至少选择一种疗休养类型", field="allowed_types")
    for name, label in (("budget", "参考标准"), ("entitlement", "年度额度")):
        value = getattr(policy, name)
        if value is None or Decimal(value) < 0 or Decimal(value) >= 100000:
            raise DomainError(f"{label}须在 0 至 100000 元之间", field=name)


_policies = RowCache(RecuperationPolicy, ttl_setting="POLICY_CACHE_SECONDS", key_of=lambda policy: policy.year)


def get_policy(session: Session, year: int) -> RecuperationPolicy:
    """The year's policy (read by every declaration: kept per process for ``POLICY_CACHE_SECONDS``;
    an edit made through this process applies at once, app/caches.py).

    Raises DomainError (not_found-like): no policy published for the year."""
    policy = _policies.get(session, year, _load_policy)
    if policy is None:
        raise DomainError(f"{year}年度疗休养政策尚未发布", code="no_policy")
    return policy


def _load_policy(session: Session, year: int) -> RecuperationPolicy | None:
    return session.scalar(select(RecuperationPolicy).where(RecuperationPolicy.year == year))


def check_window(policy: RecuperationPolicy, now: datetime | None = None) -> None:
    """The declaration window in Beijing time (a window opening at 08:00 Beijing would be UTC's).

    Raises:
        WindowClosedError: before the opening day 00:00 Beijing, or after the closing day.
    """
    today = beijing_today(now)
    if today < policy.opens_on:
        raise WindowClosedError(f"本年度申报将于{policy.opens_on.month}月{policy.opens_on.day}日开放")
    if policy.closes_on and today > policy.closes_on:
        raise WindowClosedError(f"本年度申报已于{policy.closes_on.month}月{policy.closes_on.day}日截止")


def county_of(session: Session, org_id: int | None) -> Org | None:
    """The county federation above (or at) an org, by the materialized path."""
    org = session.get(Org, org_id) if org_id else None
    if org is None:
        return None
    ids = [int(i) for i in (org.path or "").strip("/").split("/") if i]
    return session.scalar(select(Org).where(Org.id.in_(ids or [org.id]), Org.level == OrgLevel.COUNTY))


def allows_type(session: Session, policy: RecuperationPolicy, member: Member, dtype: str,
                county: Org | None = None) -> bool:
    """Whether this member may choose ``dtype`` this year, with only the lookups that type needs:
    the policy's types; 市内-区县 only where the member's county offers it; 一线 only for members on
    a federation's roster (A-19)."""
    if dtype not in policy.allowed_types:
        return False
    if dtype == RecupType.CITY_COUNTY:
        county = county if county is not None else county_of(session, member.org_id)
        return county is not None and county.id in {c.id for c in policy.counties}
    if dtype == RecupType.FRONTLINE:
        return session.scalar(select(FrontlineRoster.id).where(
            FrontlineRoster.year == policy.year, FrontlineRoster.member_id == member.id)) is not None
    return True


def types_for(session: Session, policy: RecuperationPolicy, member: Member, county: Org | None = None) -> list[str]:
    """Types this member may choose this year (``allows_type`` of each of the policy's)."""
    if RecupType.CITY_COUNTY in policy.allowed_types and county is None:
        county = county_of(session, member.org_id)
    return [t for t in policy.allowed_types if allows_type(session, policy, member, t, county)]


def yuan(amount) -> str:
    """400.00 → "400", 76.50 → "76.50" (how the seed writes the reference budget)."""
    value = Decimal(amount)
    return str(int(value)) if value == value.to_integral() else f"{value:.2f}"


def budget_warning(total: Decimal, budget: Decimal) -> str | None:
    """Above the reference the plan is allowed; the excess is the worker's (S000:L45)."""
    if total <= budget:
        return None
    return f"计划金额 {total:.2f} 元，超出参考标准 {yuan(budget)} 元的 {total - budget:.2f} 元由职工自理"
