"""普惠活动 rules: coupons and prizes, activity review, voucher generation, redemption, settlement.

Claims and redemptions are single conditional UPDATEs (PostgreSQL: row locks with
SKIP LOCKED), with unique constraints as the backstop: no voucher is issued beyond
its prize, claimed twice within one limit slot, or redeemed twice, whatever the
concurrency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import exists, func, inspect, select, update
from sqlalchemy.orm import Session

from app.codes import new_codes, normalize_code
from app.database import fast_insert
from app.masking import mask_name
from app.services import review_flow
from app.services.errors import DomainError, NotFoundError
from models.base import DISPLAY_TZ, as_aware, utcnow
from models.members import Member
from models.vouchers import (
    ACTIVITY_FLOW,
    ACTIVITY_RUN_FLOW,
    Activity,
    ActivityEligibility,
    ActivityRunStatus,
    ActivityStatus,
    ClaimLimit,
    Coupon,
    CouponAuthorization,
    CouponType,
    Merchant,
    Prize,
    Voucher,
    VoucherStatus,
)

FEN = Decimal("0.01")


def money(value) -> Decimal:
    """Decimal rounded half-up to the fen."""
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(DISPLAY_TZ).date()


# --- bounds: what a form or an API may ask for (a larger number is a Chinese refusal, not an overflow)
MAX_QUANTITY = 10_000_000          # vouchers of one coupon or one prize
MAX_FACE_VALUE = Decimal(100000)  # yuan per voucher
MAX_CLAIMS_PER_DAY = 100

# an activity using a coupon holds it while submitted or approved: what settlement sums must not move
_HOLDING = (ActivityStatus.PENDING, ActivityStatus.APPROVED)
_LOCKED_COUPON_FIELDS = {"face_value": "面值", "valid_from": "有效期开始时间", "valid_to": "有效期结束时间",
                         "merchant_id": "所属商家"}


# --- merchants, coupons, activities as edited in forms ---------------------------------
def prepare_merchant(merchant) -> None:
    """Raises: DomainError on a bad mobile."""
    from app.validators import ValidationError, validate_mobile

    if merchant.mobile:
        try:
            merchant.mobile = validate_mobile(merchant.mobile)
        except ValidationError as err:
            raise DomainError(str(err)) from None


def coupon_in_use(session: Session, coupon_id: int | None) -> bool:
    """An activity with a prize of this coupon is submitted (待审核) or approved."""
    if not coupon_id:
        return False
    return bool(session.scalar(select(func.count(Prize.id)).join(Activity, Activity.id == Prize.activity_id)
                               .where(Prize.coupon_id == coupon_id, Activity.status.in_(_HOLDING))))


def _changed(coupon: Coupon, field: str) -> bool:
    """Set to a different value since loaded (an equal value written back by a form is no change)."""
    return bool(inspect(coupon).attrs[field].history.added)


def prepare_coupon(session: Session, coupon: Coupon) -> None:
    """Rules: 0 < quantity ≤ MAX_QUANTITY and ≥ what prizes already took; valid-from < valid-to (the
    redemption window, to the minute); 0 < face value ≤ MAX_FACE_VALUE, in fen. While an activity
    using the coupon is submitted or approved, its face value, window and merchant cannot change.

    Raises:
        DomainError.
    """
    with session.no_autoflush:
        if not coupon.quantity or coupon.quantity <= 0:
            raise DomainError("发行数量须大于0")
        if coupon.quantity > MAX_QUANTITY:
            raise DomainError(f"发行数量不能超过 {MAX_QUANTITY}")
        if coupon.quantity < (coupon.allocated or 0):
            raise DomainError(f"发行数量不能少于已分配给活动的 {coupon.allocated} 张")
        coupon.valid_from, coupon.valid_to = as_aware(coupon.valid_from), as_aware(coupon.valid_to)
        if coupon.valid_from is None or coupon.valid_to is None:
            raise DomainError("请填写有效期（核销期限）的开始和结束时间")
        if coupon.valid_from >= coupon.valid_to:
            raise DomainError("有效期结束时间须晚于开始时间")
        if coupon.face_value is None or Decimal(coupon.face_value) <= 0:
            raise DomainError("面值须大于0")
        if Decimal(coupon.face_value) > MAX_FACE_VALUE:
            raise DomainError(f"面值不能超过 {MAX_FACE_VALUE} 元")
        coupon.face_value = money(coupon.face_value)
        coupon.type = coupon.type or CouponType.UNION_ACTIVITY
        if coupon.id and coupon_in_use(session, coupon.id):
            locked = [label for field, label in _LOCKED_COUPON_FIELDS.items() if _changed(coupon, field)]
            if locked:
                raise DomainError(f"该券已用于提交审核或审核通过的活动，{'、'.join(locked)}不能再修改")
        coupon.org_id = session.scalar(select(Merchant.org_id).where(Merchant.id == coupon.merchant_id))


def prepare_activity(activity: Activity, *, is_created: bool) -> None:
    """Rules: editable only as 草稿 / 驳回; start later than now; end after start; 1 ≤ N ≤ 100 a day;
    a birthday-cake activity is claimed once.

    Raises:
        DomainError.
    """
    if not is_created:
        check_activity_editable(activity)
    activity.start_at, activity.end_at = as_aware(activity.start_at), as_aware(activity.end_at)
    if activity.start_at is None or activity.end_at is None:
        raise DomainError("请填写活动开始和结束时间")
    if activity.start_at <= utcnow():
        raise DomainError("活动开始时间须晚于当前时间")
    if activity.end_at <= activity.start_at:
        raise DomainError("活动结束时间须晚于开始时间")
    if not 1 <= (activity.claims_per_day or 0) <= MAX_CLAIMS_PER_DAY:  # bounded even when unused: no overflow
        raise DomainError(f"每天可领取次数须在 1 到 {MAX_CLAIMS_PER_DAY} 之间")
    activity.eligibility = activity.eligibility or ActivityEligibility.ALL
    if activity.eligibility == ActivityEligibility.BIRTHDAY_MONTH and activity.claim_limit != ClaimLimit.ONCE:
        raise DomainError("生日蛋糕活动每位会员限领一次，请将领券次数设为「仅限一次」")


def check_activity_editable(activity: Activity) -> None:
    """Editable only as 草稿 / 驳回 (before submission, or after a rejection).

    Raises:
        DomainError.
    """
    if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.REJECTED):
        raise DomainError("活动提交审核后不能再编辑")


def check_activity_deletable(activity: Activity) -> None:
    """After submission an activity can be closed but never deleted.

    Raises:
        DomainError.
    """
    if activity.status != ActivityStatus.DRAFT:
        raise DomainError("活动已提交审核，不能删除（可关闭活动）")


def activity_counts(session: Session, activity_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """报名人数 (claims), 参与人数 (distinct members), 核销数 per activity, in one query."""
    rows = session.execute(
        select(Voucher.activity_id, func.count(Voucher.member_id), func.count(func.distinct(Voucher.member_id)),
               func.count(Voucher.redeemed_at))
        .where(Voucher.activity_id.in_(activity_ids)).group_by(Voucher.activity_id))
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


# --- 授权: other merchants, or persons, who may redeem a coupon ---------------------------
def authorization_candidates(session: Session, coupon: Coupon, text: str, *, limit: int = 20) -> list[Merchant]:
    """Online merchants whose name contains ``text`` (at least 2 characters), other than the
    coupon's own and those already authorized. Online merchants are public in the member app, so
    any of the city may be found; offline ones cannot redeem and are never offered."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    taken = select(CouponAuthorization.merchant_id).where(CouponAuthorization.coupon_id == coupon.id,
                                                          CouponAuthorization.merchant_id.is_not(None))
    return list(session.scalars(select(Merchant).where(
        Merchant.online.is_(True), Merchant.id != coupon.merchant_id, Merchant.id.not_in(taken),
        Merchant.name.contains(text, autoescape=True)).order_by(Merchant.name).limit(limit)))


def find_redeemer_account(session: Session, username: str, redeemer_roles: set[str]):
    """The active account named exactly ``username`` whose roles may redeem (``redeemer_roles``), or
    None. Exact names only: a merchant learns nothing about other accounts by typing prefixes."""
    from models.security import AppUser

    username = (username or "").strip()
    if not username:
        return None
    user = session.scalar(select(AppUser).where(AppUser.username == username, AppUser.active.is_(True)))
    return user if user is not None and {r.name for r in user.roles} & set(redeemer_roles) else None


def authorize_coupon(session: Session, coupon: Coupon, *, merchant: Merchant | None = None, user=None) -> None:
    """授权: ``merchant`` (online, not the coupon's own) or the person ``user`` may redeem ``coupon``
    too (idempotent). A person's redemptions are booked to the coupon's merchant (A-23).

    Raises:
        DomainError: neither or both given; the coupon's own merchant; an offline merchant.
    """
    if (merchant is None) == (user is None):
        raise DomainError("请选择要授权的商家或个人")
    if merchant is not None:
        if merchant.id == coupon.merchant_id:
            raise DomainError("优惠券所属商家本就可以核销")
        if not merchant.online:
            raise DomainError(f"「{merchant.name}」已下线，不能授权核销")
        holder = CouponAuthorization.merchant_id == merchant.id
    else:
        if user.merchant_id == coupon.merchant_id:
            raise DomainError("该账户属于本商家，本就可以核销")
        holder = CouponAuthorization.user_id == user.id
    if not session.scalar(select(CouponAuthorization.id).where(CouponAuthorization.coupon_id == coupon.id, holder)):
        session.add(CouponAuthorization(coupon_id=coupon.id, merchant_id=getattr(merchant, "id", None),
                                        user_id=getattr(user, "id", None)))
    session.commit()


def revoke_authorization(session: Session, coupon: Coupon, authorization_id: int) -> None:
    """取消授权 of one merchant or person of ``coupon`` (redemptions already made stay).

    Raises:
        NotFoundError: not an authorization of this coupon.
    """
    row = session.scalar(select(CouponAuthorization).where(CouponAuthorization.id == authorization_id,
                                                           CouponAuthorization.coupon_id == coupon.id))
    if row is None:
        raise NotFoundError("授权记录不存在")
    session.delete(row)
    session.commit()


def authorizations_of(session: Session, coupon_id: int) -> list[CouponAuthorization]:
    return list(session.scalars(select(CouponAuthorization).where(CouponAuthorization.coupon_id == coupon_id)
                                .order_by(CouponAuthorization.id)))


# --- prizes ------------------------------------------------------------------------
def add_prize(session: Session, activity_id: int, coupon_id: int, quantity: int) -> Prize:
    """Promise ``quantity`` of a coupon to an activity still being edited.

    Raises:
        DomainError: the activity is locked, the coupon disabled, the quantity outside 1 … what remains.
    """
    activity = session.get(Activity, activity_id)
    if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.REJECTED):
        raise DomainError("活动已提交审核，不能再修改奖品")
    if quantity <= 0:
        raise DomainError("奖品数量须大于0")
    coupon = session.get(Coupon, coupon_id)
    if coupon is None or not coupon.enabled:
        raise DomainError("优惠券不存在或未开启")
    if quantity > coupon.remaining:  # checked here too: a huge number never reaches the database
        raise DomainError(f"优惠券剩余数量不足（剩余 {coupon.remaining}）")
    taken = session.execute(update(Coupon).where(Coupon.id == coupon_id,
                                                 Coupon.allocated + quantity <= Coupon.quantity)
                            .values(allocated=Coupon.allocated + quantity))
    if taken.rowcount != 1:
        session.refresh(coupon)
        raise DomainError(f"优惠券剩余数量不足（剩余 {coupon.remaining}）")
    prize = Prize(activity_id=activity_id, coupon_id=coupon_id, quantity=quantity)
    session.add(prize)
    session.commit()
    return prize


def _release_prizes(session: Session, activity: Activity) -> None:
    """Give the prizes' allocation back to their coupons (a withdrawn activity issues nothing)."""
    for prize in activity.prizes:
        session.execute(update(Coupon).where(Coupon.id == prize.coupon_id)
                        .values(allocated=Coupon.allocated - prize.quantity))


# --- review and operation ----------------------------------------------------------------
def review_activity(session: Session, activity_id: int, action: str, *, actor, reason=None, scope_clause=None):
    """submit / approve / reject through the review-flow engine (trail, self-approval, reason);
    approve and reject set 审核时间.

    Raises:
        DomainError subclasses of the engine; DomainError when submitted without prizes.
    """
    if action == "submit":
        activity = session.get(Activity, activity_id)
        if activity is not None and not activity.prizes:
            raise DomainError("请先添加奖品再提交审核")
        if activity is not None and activity.start_at <= utcnow():
            raise DomainError("活动开始时间须晚于当前时间，请修改后再提交")
    activity = review_flow.apply_transition(session, Activity, activity_id, action, flow=ACTIVITY_FLOW,
                                            actor=actor, reason=reason, status_labels=ActivityStatus,
                                            scope_clause=scope_clause)
    if action in ("approve", "reject"):
        activity.reviewed_at = utcnow()
    session.commit()
    return activity


def operate_activity(session: Session, activity_id: int, action: str, *, actor, scope_clause=None,
                     now: datetime | None = None):
    """开启 / 关闭. An approved activity toggles (closed → open again) until its end; a submitted one
    not yet approved (待审核 or 驳回) can only be closed: withdrawn (已撤回), never opened, its prizes'
    allocation released to the coupons.

    Raises:
        DomainError: a draft, a withdrawn or an ended activity; engine errors.
    """
    activity = session.get(Activity, activity_id)
    if activity is not None and action == "close" and activity.status in (ActivityStatus.PENDING,
                                                                           ActivityStatus.REJECTED):
        activity = review_flow.apply_transition(session, Activity, activity_id, action, flow=ACTIVITY_FLOW,
                                                actor=actor, status_labels=ActivityStatus, scope_clause=scope_clause)
        activity.run_status = ActivityRunStatus.CLOSED
        _release_prizes(session, activity)
        session.commit()
        return activity
    if activity is None or activity.status != ActivityStatus.APPROVED:
        raise DomainError("只有审核通过的活动才能开启；提交审核后的活动可以关闭")
    if (now or utcnow()) >= activity.end_at:
        raise DomainError("活动已结束，不能再开启或关闭")
    activity = review_flow.apply_transition(session, Activity, activity_id, action, flow=ACTIVITY_RUN_FLOW,
                                            actor=actor, status_attr="run_status",
                                            status_labels=ActivityRunStatus, scope_clause=scope_clause)
    session.commit()
    return activity


# --- vouchers ------------------------------------------------------------------------------
def vouchers_to_generate(activity: Activity) -> int:
    """How many codes 生成券码 would create: one per prize unit."""
    return sum(prize.quantity for prize in activity.prizes)


def generate_vouchers(session: Session, activity_id: int) -> int:
    """生成券码: one voucher per prize unit, once per approved activity; returns how many. Each voucher
    keeps its coupon's face value and valid-to as they were: settlement sums what was issued.

    Raises:
        DomainError: not approved, or already generated.
    """
    activity = session.scalar(select(Activity).where(Activity.id == activity_id).with_for_update())
    if activity is None or activity.status != ActivityStatus.APPROVED:
        raise DomainError("只有审核通过的活动才能生成券码")
    if activity.vouchers_generated:
        raise DomainError("该活动的券码已生成")
    codes = iter(new_codes(vouchers_to_generate(activity)))
    rows = []
    for prize in activity.prizes:  # the columns one prize's vouchers share, read from the ORM once
        shared = {"org_id": activity.org_id, "activity_id": activity.id, "prize_id": prize.id,
                  "coupon_id": prize.coupon_id, "status": VoucherStatus.UNCLAIMED.value,
                  "face_value": prize.coupon.face_value, "expires_at": prize.coupon.valid_to}
        rows.extend({"code": next(codes), **shared} for _ in range(prize.quantity))
    for start in range(0, len(rows), 20_000):
        fast_insert(session, Voucher.__table__, rows[start:start + 20_000])
    activity.vouchers_generated = True
    session.commit()
    return len(rows)


# --- redemption ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Redeemer:
    """Who redeems: a merchant's operator (``merchant_id``), and/or a person authorized on coupons."""

    merchant_id: int | None
    user_id: int | None

    @classmethod
    def of(cls, user) -> Redeemer:
        return cls(getattr(user, "merchant_id", None), getattr(user, "id", None))


def may_redeem_anything(session: Session, redeemer: Redeemer) -> bool:
    """Bound to a merchant, or authorized in person on at least one coupon."""
    return redeemer.merchant_id is not None or bool(redeemer.user_id and session.scalar(
        select(func.count(CouponAuthorization.id)).where(CouponAuthorization.user_id == redeemer.user_id)))


def booking_merchant(session: Session, coupon_id: int, redeemer: Redeemer) -> int | None:
    """The merchant a redemption by ``redeemer`` is booked to: its own merchant for its own coupons
    and those authorized to it; the coupon's merchant for a person authorized on it (A-23); None
    when not authorized."""
    coupon_merchant = session.scalar(select(Coupon.merchant_id).where(Coupon.id == coupon_id))
    if redeemer.merchant_id is not None and (coupon_merchant == redeemer.merchant_id or session.scalar(
            select(CouponAuthorization.id).where(CouponAuthorization.coupon_id == coupon_id,
                                                 CouponAuthorization.merchant_id == redeemer.merchant_id))):
        return redeemer.merchant_id
    if redeemer.user_id is not None and session.scalar(select(CouponAuthorization.id).where(
            CouponAuthorization.coupon_id == coupon_id, CouponAuthorization.user_id == redeemer.user_id)):
        return coupon_merchant
    return None


def preview_voucher(session: Session, raw_code: str, redeemer: Redeemer, *, now: datetime | None = None) -> dict:
    """What the operator sees before confirming: coupon, face value, member (masked), state, the
    redemption window, and why it cannot be redeemed (``problem``, None when it can).

    Raises:
        NotFoundError: bad code. DomainError ``not_authorized``: another merchant's coupon (nothing shown).
    """
    voucher = _find(session, raw_code)
    problem = redeem_problem(session, voucher, redeemer, now=now)
    if problem is not None and problem.code == "not_authorized":
        raise problem
    coupon = voucher.coupon
    member = session.get(Member, voucher.member_id) if voucher.member_id else None
    return {"code": voucher.code, "coupon": coupon.title, "face_value": str(money(voucher.face_value)),
            "member": mask_name(member.name) if member else "", "status": voucher.current_status,
            "status_label": voucher.status_label, "valid_from": local_minute(coupon.valid_from),
            "expires_at": local_minute(voucher.expires_at), "redeemable": problem is None,
            "problem": {"code": problem.code, "message": problem.message} if problem else None}


def local_minute(value: datetime) -> str:
    """A stored time as clerks and members read it: Beijing, to the minute."""
    return value.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")


def redeem_problem(session: Session, voucher: Voucher, redeemer: Redeemer, *,
                   now: datetime | None = None) -> DomainError | None:
    """Why ``redeemer`` cannot redeem ``voucher`` now (已核销 says when and where), or None.

    Authorization comes first: an unrelated merchant learns nothing about the voucher. Then the
    merchant booked must be online, and ``now`` inside the coupon's window [valid_from, valid_to].
    """
    now = now or utcnow()
    booked = booking_merchant(session, voucher.coupon_id, redeemer)
    if booked is None:
        return DomainError("本商家无权核销该券", code="not_authorized")
    if not session.scalar(select(Merchant.online).where(Merchant.id == booked)):
        return DomainError("商家已下线，不能核销；请联系管理工会重新上线", code="merchant_offline")
    if voucher.status == VoucherStatus.REDEEMED:
        when = voucher.redeemed_at.astimezone(DISPLAY_TZ)
        return DomainError(f"已核销：{when:%Y-%m-%d %H:%M} 于「{voucher.redeemed_merchant.name}」",
                           code="already_redeemed")
    if voucher.status == VoucherStatus.EXPIRED or voucher.expires_at < now:
        return DomainError(f"该券已于 {local_minute(voucher.expires_at)} 过期", code="expired")
    if voucher.status == VoucherStatus.UNCLAIMED:
        return DomainError("该券尚未被会员领取", code="not_claimed")
    valid_from = voucher.coupon.valid_from
    if now < valid_from:
        return DomainError(f"该券自 {local_minute(valid_from)} 起可核销", code="not_yet_valid")
    return None


def _find(session, raw_code) -> Voucher:
    code = normalize_code(raw_code)
    voucher = session.scalar(select(Voucher).where(Voucher.code == code)) if code else None
    if voucher is None:
        raise NotFoundError("券码无效，请核对后重新输入", code="voucher_not_found")
    return voucher


def redeem_voucher(session: Session, raw_code: str, *, redeemer: Redeemer, now: datetime | None = None) -> Voucher:
    """核销: exactly once, by the coupon's merchant, one it is authorized to, or a person authorized on
    it (booked to the coupon's merchant, the person recorded), while the booked merchant is online
    and inside the coupon's window [valid_from, valid_to].

    Raises:
        NotFoundError: bad code. DomainError: 已核销 (when, where), expired, not_yet_valid, unclaimed,
        merchant_offline, not authorized.
    """
    now = now or utcnow()
    voucher = _find(session, raw_code)
    booked = booking_merchant(session, voucher.coupon_id, redeemer)
    done = None
    if booked is not None:
        done = session.execute(
            update(Voucher).where(
                Voucher.id == voucher.id, Voucher.status == VoucherStatus.CLAIMED, Voucher.expires_at >= now,
                Voucher.coupon_id.in_(select(Coupon.id).where(Coupon.valid_from <= now)),
                exists().where(Merchant.id == booked, Merchant.online.is_(True)))
            .values(status=VoucherStatus.REDEEMED, redeemed_at=now, redeemed_merchant_id=booked,
                    redeemed_by_id=redeemer.user_id)
            .returning(Voucher.id)).scalar()
    session.commit()
    session.refresh(voucher)
    if done is not None:
        return voucher
    raise redeem_problem(session, voucher, redeemer, now=now) or DomainError("该券当前不能核销")


# --- 结算入帐 ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SettlementRow:
    activity: str
    merchant: str
    count: int
    total: Decimal


def settlement_summary(session: Session, query_filter) -> list[SettlementRow]:
    """结算入帐: per activity and redeeming merchant, the redeemed count and the face values frozen
    on the vouchers at generation (Decimal, to the fen)."""
    rows = session.execute(
        select(Activity.title, Merchant.name, func.count(Voucher.id), func.sum(Voucher.face_value))
        .join(Merchant, Merchant.id == Voucher.redeemed_merchant_id).join(Activity, Activity.id == Voucher.activity_id)
        .where(Voucher.status == VoucherStatus.REDEEMED, query_filter)
        .group_by(Activity.id, Activity.title, Merchant.id, Merchant.name).order_by(Activity.title, Merchant.name))
    return [SettlementRow(activity, merchant, count, money(total or 0)) for activity, merchant, count, total in rows]


def settlement_totals(rows: list[SettlementRow]) -> tuple[int, Decimal]:
    return sum(r.count for r in rows), money(sum((r.total for r in rows), Decimal(0)))


def expire_vouchers(session: Session, *, now: datetime | None = None) -> int:
    """Scheduled (every minute): vouchers past their expiry time become 已过期."""
    result = session.execute(update(Voucher).where(
        Voucher.status.in_([VoucherStatus.UNCLAIMED, VoucherStatus.CLAIMED]),
        Voucher.expires_at < (now or utcnow())).values(status=VoucherStatus.EXPIRED))
    session.commit()
    return result.rowcount


def close_ended_activities(session: Session, *, now: datetime | None = None) -> int:
    """Scheduled: open activities past their end time are closed."""
    result = session.execute(update(Activity).where(
        Activity.run_status == ActivityRunStatus.OPEN, Activity.end_at < (now or utcnow()))
        .values(run_status=ActivityRunStatus.CLOSED))
    session.commit()
    return result.rowcount
