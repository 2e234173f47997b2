"""Member claims of vouchers (领券): scope, who may claim, limits, and the claim itself.

The claim is the hot path (hundreds per second when an activity opens): one query for
the facts, one conditional UPDATE … RETURNING (PostgreSQL: the free voucher row-locked with
SKIP LOCKED), the unique claim slot as the backstop against a member racing with itself.

Who may claim (seed 003 L23): certified (已认证) members in 在会 status only; a birthday-cake
activity only members whose birth month matches (A-24). ``claim_refusal`` is the one rule, used by
the claim and by the activity list (which flags ``claimable`` with the reason instead of hiding).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String, bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.services.errors import DomainError, NotFoundError
from app.services.vouchers import local_today, money
from models.base import DISPLAY_TZ, UTCDateTime, utcnow
from models.members import CertStatus, Member, MembershipStatus
from models.organizations import Org
from models.vouchers import (
    Activity,
    ActivityEligibility,
    ActivityRunStatus,
    ActivityScope,
    ActivityStatus,
    ClaimLimit,
    VoucherStatus,
)

# a birthday-cake activity is for members born in the month of the claim ("claim_month"),
# or in any month the activity window touches ("activity_window"): the BIRTHDAY_MONTH_RULE setting
BIRTHDAY_RULES = ("claim_month", "activity_window")


@dataclass(frozen=True)
class ClaimedVoucher:
    id: int
    code: str
    activity_id: int
    coupon_id: int
    member_id: int
    claim_slot: str
    claimed_at: datetime
    expires_at: datetime
    coupon_title: str
    face_value: Decimal
    status: str = VoucherStatus.CLAIMED.value

    @property
    def status_label(self) -> str:
        return VoucherStatus.label_of(self.status)


def in_scope(scope: str, activity_org_id: int, activity_path: str | None, member_org_id: int,
             member_path: str | None) -> bool:
    """The activity's scope: its own union, or its union and the unions below it."""
    if scope == ActivityScope.OWN:
        return member_org_id == activity_org_id
    return bool(activity_path and member_path and member_path.startswith(activity_path))


def _member_place(session: Session, member_id: int) -> tuple[int, str] | None:
    """The member's union and its tree path."""
    return session.execute(select(Member.org_id, Org.path).join(Org, Org.id == Member.org_id)
                           .where(Member.id == member_id)).first()


def member_may_join(session: Session, activity: Activity, member_id: int) -> bool:
    place = _member_place(session, member_id)
    path = session.scalar(select(Org.path).where(Org.id == activity.org_id))
    return place is not None and in_scope(activity.scope, activity.org_id, path, *place)


def _months_between(start: datetime, end: datetime) -> set[int]:
    first, last = start.astimezone(DISPLAY_TZ), end.astimezone(DISPLAY_TZ)
    months, year, month = set(), first.year, first.month
    while (year, month) <= (last.year, last.month) and len(months) < 12:
        months.add(month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def birthday_matches(birth_date: date | None, *, now: datetime, start_at: datetime, end_at: datetime,
                     rule: str = "claim_month") -> bool:
    """A-24: the birth month is the month of the claim (Beijing), or one the activity window touches."""
    if birth_date is None:
        return False
    if rule == "activity_window":
        return birth_date.month in _months_between(start_at, end_at)
    return birth_date.month == now.astimezone(DISPLAY_TZ).month


def claim_refusal(*, cert_status: str, member_status: str, birth_date: date | None, eligibility: str,
                  start_at: datetime, end_at: datetime, now: datetime,
                  birthday_rule: str = "claim_month") -> DomainError | None:
    """Why this member cannot claim in this opened activity now, or None (the one rule of who may claim).

    Rules: 已认证 (``not_certified``), 在会 (``not_active``), a birthday-cake activity's birth month
    (``not_eligible``), inside start … end (``not_started`` / ``activity_closed``).
    """
    if cert_status != CertStatus.VERIFIED:
        return DomainError("完成实名认证（已认证）的会员才能领取工会福利，请先提交认证并等待工会审核",
                           code="not_certified")
    if member_status != MembershipStatus.ACTIVE:
        return DomainError(f"会籍状态为「{MembershipStatus.label_of(member_status)}」，不能领取工会福利",
                           code="not_active")
    if eligibility == ActivityEligibility.BIRTHDAY_MONTH and not birthday_matches(
            birth_date, now=now, start_at=start_at, end_at=end_at, rule=birthday_rule):
        return DomainError("本活动仅限当月生日的会员领取", code="not_eligible")
    if now < start_at:
        return DomainError(f"活动尚未开始，{start_at.astimezone(DISPLAY_TZ):%Y-%m-%d %H:%M} 起可领取",
                           code="not_started")
    if now > end_at:
        return DomainError("活动已结束", code="activity_closed")
    return None


@dataclass(frozen=True)
class JoinableActivity:
    """An opened activity of the member's scope, and whether the member may claim in it now."""

    activity: Activity
    refusal: DomainError | None

    @property
    def claimable(self) -> bool:
        return self.refusal is None


def joinable_activities(session: Session, member_id: int, *, now: datetime | None = None,
                        birthday_rule: str = "claim_month") -> list[JoinableActivity]:
    """Opened, unfinished activities of the member's scope, each with ``claim_refusal``: two queries
    however many there are."""
    now = now or utcnow()
    member = session.execute(select(Member.org_id, Org.path, Member.cert_status, Member.status, Member.birth_date)
                             .join(Org, Org.id == Member.org_id).where(Member.id == member_id)).first()
    if member is None:
        return []
    rows = session.execute(select(Activity, Org.path).join(Org, Org.id == Activity.org_id).where(
        Activity.status == ActivityStatus.APPROVED, Activity.run_status == ActivityRunStatus.OPEN,
        Activity.end_at >= now).order_by(Activity.start_at, Activity.id)).all()
    return [JoinableActivity(activity, claim_refusal(
        cert_status=member.cert_status, member_status=member.status, birth_date=member.birth_date,
        eligibility=activity.eligibility, start_at=activity.start_at, end_at=activity.end_at, now=now,
        birthday_rule=birthday_rule))
        for activity, path in rows if in_scope(activity.scope, activity.org_id, path, member.org_id, member.path)]


# The hot path in plain SQL, parsed once: building and cache-keying the equivalent Core
# constructs cost more CPU than the database spends on the statements.
_FACTS_SQL = """
    SELECT a.status, a.run_status, a.start_at, a.end_at, a.claim_limit, a.claims_per_day, a.scope,
           a.eligibility, a.org_id, ao.path, m.org_id AS member_org_id, mo.path AS member_path,
           m.cert_status, m.status AS member_status, m.birth_date,
           (SELECT count(*) FROM voucher v WHERE v.activity_id = a.id AND v.member_id = m.id) AS taken,
           (SELECT count(*) FROM voucher v WHERE v.activity_id = a.id AND v.member_id = m.id
                                             AND v.claim_slot LIKE :today) AS taken_today
    FROM activity a JOIN org ao ON ao.id = a.org_id, member m JOIN org mo ON mo.id = m.org_id
    WHERE a.id = :activity_id AND m.id = :member_id
"""
_FACT_COLUMNS = dict(status=String, run_status=String, start_at=UTCDateTime, end_at=UTCDateTime, claim_limit=String,
             claims_per_day=Integer, scope=String, eligibility=String, org_id=Integer, path=String,
             member_org_id=Integer, member_path=String, cert_status=String, member_status=String,
             birth_date=Date, taken=Integer, taken_today=Integer)
_FACTS = text(_FACTS_SQL).columns(**_FACT_COLUMNS)

_CLAIM = """
    UPDATE voucher SET status = '{claimed}', member_id = :member_id, claim_slot = :slot, claimed_at = :now
    WHERE id = (SELECT id FROM voucher WHERE activity_id = :activity_id AND status = '{unclaimed}'
                ORDER BY id LIMIT 1 {lock})
      AND status = '{unclaimed}'
    RETURNING id, code, coupon_id, expires_at, face_value,
              (SELECT title FROM coupon WHERE coupon.id = voucher.coupon_id) AS title
"""
_CLAIM_BY_DIALECT = {
    dialect: text(_CLAIM.format(claimed=VoucherStatus.CLAIMED.value, unclaimed=VoucherStatus.UNCLAIMED.value,
                                lock=lock))
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(id=Integer, code=String, coupon_id=Integer, expires_at=UTCDateTime, face_value=Numeric(12, 2),
             title=String)
    for dialect, lock in (("postgresql", "FOR UPDATE SKIP LOCKED"), ("sqlite", ""))
}

# PostgreSQL: the facts and the claim in one round trip. The UPDATE runs only where the activity is
# open and the limit leaves room (the slot follows from the same counts); every rule is then decided
# in Python from the facts it returns — as on SQLite — and a refused claim is rolled back.
_FACTS_AND_CLAIM = text(f"""
    WITH f AS ({_FACTS_SQL}),
    c AS (
        UPDATE voucher SET status = '{VoucherStatus.CLAIMED.value}', member_id = :member_id, claimed_at = :now,
               claim_slot = CASE WHEN f.claim_limit = '{ClaimLimit.ONCE.value}' THEN 'once'
                                 ELSE :day || '#' || (f.taken_today + 1) END
        FROM f
        WHERE voucher.id = (SELECT id FROM voucher WHERE activity_id = :activity_id
                            AND status = '{VoucherStatus.UNCLAIMED.value}' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND voucher.status = '{VoucherStatus.UNCLAIMED.value}'
          AND f.status = '{ActivityStatus.APPROVED.value}' AND f.run_status = '{ActivityRunStatus.OPEN.value}'
          AND CASE WHEN f.claim_limit = '{ClaimLimit.ONCE.value}' THEN f.taken = 0
                   ELSE f.taken_today < f.claims_per_day END
        RETURNING voucher.id, voucher.code, voucher.coupon_id, voucher.expires_at, voucher.face_value,
                  (SELECT title FROM coupon WHERE coupon.id = voucher.coupon_id) AS title
    )
    SELECT f.*, c.id AS voucher_id, c.code, c.coupon_id, c.expires_at, c.face_value, c.title
    FROM f LEFT JOIN c ON true
""").bindparams(bindparam("now", type_=UTCDateTime())).columns(
    **_FACT_COLUMNS, voucher_id=Integer, code=String, coupon_id=Integer, expires_at=UTCDateTime,
    face_value=Numeric(12, 2), title=String)


def _check_claim(facts, day: str, now: datetime, birthday_rule: str) -> str:
    """Every rule of a claim from its facts; returns the claim slot (``once`` or ``<day>#<n>``).

    Raises:
        NotFoundError, DomainError: as ``claim_voucher``.
    """
    if facts is None or not in_scope(facts.scope, facts.org_id, facts.path, facts.member_org_id, facts.member_path):
        raise NotFoundError("活动不存在")
    if facts.status != ActivityStatus.APPROVED or facts.run_status != ActivityRunStatus.OPEN:
        raise DomainError("活动未开启", code="activity_closed")
    refusal = claim_refusal(cert_status=facts.cert_status, member_status=facts.member_status,
                            birth_date=facts.birth_date, eligibility=facts.eligibility, start_at=facts.start_at,
                            end_at=facts.end_at, now=now, birthday_rule=birthday_rule)
    if refusal is not None:
        raise refusal
    if facts.claim_limit == ClaimLimit.ONCE:
        if facts.taken:
            raise DomainError("您已领取过本活动的券", code="limit_reached")
        return "once"
    if facts.taken_today >= facts.claims_per_day:
        raise DomainError(f"今天已领取 {facts.taken_today} 张，已达每日上限", code="limit_reached")
    return f"{day}#{facts.taken_today + 1}"


def claim_voucher(session: Session, activity_id: int, member_id: int, *,
                  now: datetime | None = None, birthday_rule: str = "claim_month") -> ClaimedVoucher:
    """A certified, active member claims one voucher of an open activity, within its claim limit.

    Raises:
        NotFoundError: no such activity or not visible to the member.
        DomainError: ``claim_refusal`` (not_certified, not_active, not_eligible, not_started,
        activity_closed); not open; limit reached; or none left.
    """
    now = now or utcnow()
    day = local_today(now).isoformat()
    params = {"activity_id": activity_id, "member_id": member_id, "today": f"{day}#%", "now": now}
    if session.get_bind().dialect.name == "postgresql":
        try:
            facts = session.execute(_FACTS_AND_CLAIM, {**params, "day": day}).first()
            slot = _check_claim(facts, day, now, birthday_rule)
        except IntegrityError:  # the same member won the same slot in a parallel request
            session.rollback()
            raise DomainError("已达领取上限", code="limit_reached") from None
        except DomainError:
            session.rollback()  # a claim the rules refuse is undone
            raise
        session.commit()
        row = facts if facts.voucher_id is not None else None
        voucher_id = row.voucher_id if row is not None else None
    else:
        facts = session.execute(_FACTS, params).first()
        slot = _check_claim(facts, day, now, birthday_rule)
        try:
            row = session.execute(_CLAIM_BY_DIALECT[session.get_bind().dialect.name], {
                "member_id": member_id, "slot": slot, "now": now, "activity_id": activity_id}).first()
            session.commit()
        except IntegrityError:  # the same member won the same slot in a parallel request
            session.rollback()
            raise DomainError("已达领取上限", code="limit_reached") from None
        voucher_id = row.id if row is not None else None
    if row is None:
        raise DomainError("券已领完", code="sold_out")
    return ClaimedVoucher(id=voucher_id, code=row.code, activity_id=activity_id, coupon_id=row.coupon_id,
                          member_id=member_id, claim_slot=slot, claimed_at=now, expires_at=row.expires_at,
                          coupon_title=row.title, face_value=money(row.face_value))
