"""普惠活动 rules: coupons and prizes, activity review, voucher generation, claims and redemption.

Claims and redemptions are single conditional UPDATEs (PostgreSQL: row locks with
SKIP LOCKED), with unique constraints as the backstop: no voucher is issued beyond
its prize, claimed twice within one limit slot, or redeemed twice, whatever the
concurrency.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import exists, func, or_, select, update
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
    ActivityRunStatus,
    ActivityStatus,
    ClaimLimit,
    Coupon,
    CouponAuthorization,
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


# --- merchants, coupons, activities as edited in forms ---------------------------------
def prepare_merchant(merchant) -> None:
    """Raises: DomainError on a bad mobile."""
    from app.validators import ValidationError, validate_mobile

    if merchant.mobile:
        try:
            merchant.mobile = validate_mobile(merchant.mobile)
        except ValidationError as err:
            raise DomainError(str(err)) from None


def prepare_coupon(session: Session, coupon: Coupon) -> None:
    """Rules: quantity ≥ what prizes already took; valid-from ≤ valid-to; face value in fen.

    Raises:
        DomainError.
    """
    if not coupon.quantity or coupon.quantity <= 0:
        raise DomainError("发行数量须大于0")
    if coupon.quantity < (coupon.allocated or 0):
        raise DomainError(f"发行数量不能少于已分配给活动的 {coupon.allocated} 张")
    if coupon.valid_from and coupon.valid_to and coupon.valid_from > coupon.valid_to:
        raise DomainError("有效期开始日期不能晚于结束日期")
    if coupon.face_value is None or Decimal(coupon.face_value) <= 0:
        raise DomainError("面值须大于0")
    coupon.face_value = money(coupon.face_value)
    coupon.org_id = session.scalar(select(Merchant.org_id).where(Merchant.id == coupon.merchant_id))


def prepare_activity(activity: Activity, *, is_created: bool) -> None:
    """Rules: editable only as 草稿 / 驳回; start later than now; end after start; N ≥ 1.

    Raises:
        DomainError.
    """
    if not is_created and activity.status not in (ActivityStatus.DRAFT, ActivityStatus.REJECTED):
        raise DomainError("活动提交审核后不能再编辑")
    activity.start_at, activity.end_at = as_aware(activity.start_at), as_aware(activity.end_at)
    if activity.start_at is None or activity.end_at is None:
        raise DomainError("请填写活动开始和结束时间")
    if activity.start_at <= utcnow():
        raise DomainError("活动开始时间须晚于当前时间")
    if activity.end_at <= activity.start_at:
        raise DomainError("活动结束时间须晚于开始时间")
    if activity.claim_limit == ClaimLimit.DAILY and (activity.claims_per_day or 0) < 1:
        raise DomainError("每天可领取次数至少为1")


def check_activity_deletable(activity: Activity) -> None:
    """After submission an activity can be closed but never deleted.

    Raises:
        DomainError.
    """
    if activity.status != ActivityStatus.DRAFT:
        raise DomainError("活动已提交审核，不能删除（可在审核通过后关闭）")


def activity_counts(session: Session, activity_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """报名人数 (claims), 参与人数 (distinct members), 核销数 per activity, in one query."""
    rows = session.execute(
        select(Voucher.activity_id, func.count(Voucher.member_id), func.count(func.distinct(Voucher.member_id)),
               func.count(Voucher.redeemed_at))
        .where(Voucher.activity_id.in_(activity_ids)).group_by(Voucher.activity_id))
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def authorize_coupon(session: Session, coupon: Coupon, merchant: Merchant) -> None:
    """授权: ``merchant`` may redeem ``coupon`` too (idempotent).

    Raises:
        DomainError: the coupon's own merchant.
    """
    if merchant.id == coupon.merchant_id:
        raise DomainError("优惠券所属商家本就可以核销")
    exists_already = session.scalar(select(CouponAuthorization.id).where(
        CouponAuthorization.coupon_id == coupon.id, CouponAuthorization.merchant_id == merchant.id))
    if not exists_already:
        session.add(CouponAuthorization(coupon_id=coupon.id, merchant_id=merchant.id))
    session.commit()


# --- prizes ------------------------------------------------------------------------
def add_prize(session: Session, activity_id: int, coupon_id: int, quantity: int) -> Prize:
    """Promise ``quantity`` of a coupon to an activity still being edited.

    Raises:
        DomainError: the activity is locked, the coupon disabled, or not enough of it remains.
    """
    activity = session.get(Activity, activity_id)
    if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.REJECTED):
        raise DomainError("活动已提交审核，不能再修改奖品")
    if quantity <= 0:
        raise DomainError("奖品数量须大于0")
    coupon = session.get(Coupon, coupon_id)
    if coupon is None or not coupon.enabled:
        raise DomainError("优惠券不存在或未开启")
    taken = session.execute(update(Coupon).where(Coupon.id == coupon_id,
                                                 Coupon.allocated + quantity <= Coupon.quantity)
                            .values(allocated=Coupon.allocated + quantity))
    if taken.rowcount != 1:
        raise DomainError(f"优惠券剩余数量不足（剩余 {coupon.quantity - coupon.allocated}）")
    prize = Prize(activity_id=activity_id, coupon_id=coupon_id, quantity=quantity)
    session.add(prize)
    session.commit()
    return prize


# --- review and operation ----------------------------------------------------------------
def review_activity(session: Session, activity_id: int, action: str, *, actor, reason=None, scope_clause=None):
    """submit / approve / reject through the review-flow engine (trail, self-approval, reason).

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
    session.commit()
    return activity


def operate_activity(session: Session, activity_id: int, action: str, *, actor, scope_clause=None):
    """开启 / 关闭: only an approved activity.

    Raises:
        DomainError: not approved; engine errors.
    """
    activity = session.get(Activity, activity_id)
    if activity is None or activity.status != ActivityStatus.APPROVED:
        raise DomainError("只有审核通过的活动才能开启或关闭")
    activity = review_flow.apply_transition(session, Activity, activity_id, action, flow=ACTIVITY_RUN_FLOW,
                                            actor=actor, status_attr="run_status",
                                            status_labels=ActivityRunStatus, scope_clause=scope_clause)
    session.commit()
    return activity


# --- vouchers ------------------------------------------------------------------------------
def generate_vouchers(session: Session, activity_id: int) -> int:
    """生成券码: one voucher per prize unit, once per approved activity; returns how many.

    Raises:
        DomainError: not approved, or already generated.
    """
    activity = session.scalar(select(Activity).where(Activity.id == activity_id).with_for_update())
    if activity is None or activity.status != ActivityStatus.APPROVED:
        raise DomainError("只有审核通过的活动才能生成券码")
    if activity.vouchers_generated:
        raise DomainError("该活动的券码已生成")
    codes = iter(new_codes(sum(prize.quantity for prize in activity.prizes)))
    rows = [{"code": next(codes), "org_id": activity.org_id, "activity_id": activity.id, "prize_id": prize.id,
             "coupon_id": prize.coupon_id, "status": VoucherStatus.UNCLAIMED.value, "expires_on": prize.coupon.valid_to}
            for prize in activity.prizes for _ in range(prize.quantity)]
    for start in range(0, len(rows), 20_000):
        fast_insert(session, Voucher.__table__, rows[start:start + 20_000])
    activity.vouchers_generated = True
    session.commit()
    return len(rows)


def _authorized(merchant_id: int):
    return or_(
        Coupon.merchant_id == merchant_id,
        exists().where(CouponAuthorization.coupon_id == Coupon.id, CouponAuthorization.merchant_id == merchant_id),
    )


def preview_voucher(session: Session, raw_code: str, merchant_id: int, *, now: datetime | None = None) -> dict:
    """What the operator sees before confirming: coupon, face value, member (masked), state, and why
    it cannot be redeemed (``problem``, None when it can).

    Raises:
        NotFoundError: bad code. DomainError ``not_authorized``: another merchant's coupon (nothing shown).
    """
    voucher = _find(session, raw_code)
    problem = redeem_problem(session, voucher, merchant_id, now=now)
    if problem is not None and problem.code == "not_authorized":
        raise problem
    coupon = voucher.coupon
    member = session.get(Member, voucher.member_id) if voucher.member_id else None
    return {"code": voucher.code, "coupon": coupon.title, "face_value": str(money(coupon.face_value)),
            "member": mask_name(member.name) if member else "", "status": voucher.status,
            "status_label": voucher.status_label, "expires_on": voucher.expires_on.isoformat(),
            "redeemable": problem is None,
            "problem": {"code": problem.code, "message": problem.message} if problem else None}


def redeem_problem(session: Session, voucher: Voucher, merchant_id: int, *,
                   now: datetime | None = None) -> DomainError | None:
    """Why ``merchant_id`` cannot redeem ``voucher`` now (已核销 says when and where), or None.

    Authorization comes first: an unrelated merchant learns nothing about the voucher.
    """
    if not session.scalar(select(func.count(Coupon.id)).where(Coupon.id == voucher.coupon_id,
                                                              _authorized(merchant_id))):
        return DomainError("本商家无权核销该券", code="not_authorized")
    if voucher.status == VoucherStatus.REDEEMED:
        when = voucher.redeemed_at.astimezone(DISPLAY_TZ)
        return DomainError(f"已核销：{when:%Y-%m-%d %H:%M} 于「{voucher.redeemed_merchant.name}」",
                           code="already_redeemed")
    if voucher.status == VoucherStatus.EXPIRED or voucher.expires_on < local_today(now):
        return DomainError(f"该券已于 {voucher.expires_on:%Y-%m-%d} 过期", code="expired")
    if voucher.status == VoucherStatus.UNCLAIMED:
        return DomainError("该券尚未被会员领取", code="not_claimed")
    return None


def _find(session, raw_code) -> Voucher:
    code = normalize_code(raw_code)
    voucher = session.scalar(select(Voucher).where(Voucher.code == code)) if code else None
    if voucher is None:
        raise NotFoundError("券码无效，请核对后重新输入", code="voucher_not_found")
    return voucher


def redeem_voucher(session: Session, raw_code: str, *, merchant_id: int, operator_id: int | None,
                   now: datetime | None = None) -> Voucher:
    """核销: exactly once, by the coupon's merchant or one it is authorized to, before expiry.

    Raises:
        NotFoundError: bad code. DomainError: 已核销 (when, where), expired, unclaimed, not authorized.
    """
    now = now or utcnow()
    voucher = _find(session, raw_code)
    done = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.status == VoucherStatus.CLAIMED,
                              Voucher.expires_on >= local_today(now),
                              Voucher.coupon_id.in_(select(Coupon.id).where(_authorized(merchant_id))))
        .values(status=VoucherStatus.REDEEMED, redeemed_at=now, redeemed_merchant_id=merchant_id,
                redeemed_by_id=operator_id)
        .returning(Voucher.id)).scalar()
    session.commit()
    if done is not None:
        session.refresh(voucher)
        return voucher
    session.refresh(voucher)
    raise redeem_problem(session, voucher, merchant_id, now=now) or DomainError("该券当前不能核销")


def settlement_summary(session: Session, query_filter) -> list[tuple[str, int, Decimal]]:
    """结算入帐: per redeeming merchant, the redeemed count and face value total (Decimal)."""
    rows = session.execute(
        select(Merchant.name, func.count(Voucher.id), func.sum(Coupon.face_value))
        .join(Voucher, Voucher.redeemed_merchant_id == Merchant.id).join(Coupon, Coupon.id == Voucher.coupon_id)
        .where(Voucher.status == VoucherStatus.REDEEMED, query_filter)
        .group_by(Merchant.name).order_by(Merchant.name))
    return [(name, count, money(total or 0)) for name, count, total in rows]


def expire_vouchers(session: Session, *, now: datetime | None = None) -> int:
    """Scheduled: vouchers past their coupon's valid-to become 已过期."""
    result = session.execute(update(Voucher).where(
        Voucher.status.in_([VoucherStatus.UNCLAIMED, VoucherStatus.CLAIMED]),
        Voucher.expires_on < local_today(now)).values(status=VoucherStatus.EXPIRED))
    session.commit()
    return result.rowcount


def close_ended_activities(session: Session, *, now: datetime | None = None) -> int:
    """Scheduled: open activities past their end time are closed."""
    result = session.execute(update(Activity).where(
        Activity.run_status == ActivityRunStatus.OPEN, Activity.end_at < (now or utcnow()))
        .values(run_status=ActivityRunStatus.CLOSED))
    session.commit()
    return result.rowcount
