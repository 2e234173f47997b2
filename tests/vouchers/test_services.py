"""Voucher rules called directly: codes, prizes, review, claims within limits, redemption."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.codes import ALPHABET, normalize_code
from app.services import claims, vouchers
from app.services.errors import DomainError, NotFoundError, SelfApprovalError
from app.services.vouchers import Redeemer
from models.base import utcnow
from models.review import ReviewTrail
from models.vouchers import Activity, ClaimLimit, CouponAuthorization, Merchant, Voucher, VoucherStatus
from tests.factories import base_of, county, make_user
from tests.vouchers.conftest import claimer, later, window


def test_generated_codes_are_unique_unambiguous_and_checked(ctx, open_activity):
    activity, _coupon, _merchant = open_activity(quantity=40)
    codes = ctx.scalars(select(Voucher.code).where(Voucher.activity_id == activity.id)).all()
    assert len(codes) == len(set(codes)) == 40
    assert all(len(c) == 14 and set(c) <= set(ALPHABET) and normalize_code(c) == c for c in codes)
    assert not set("01OIL") & set("".join(codes))
    typo = codes[0][:5] + ("2" if codes[0][5] != "2" else "3") + codes[0][6:]
    assert normalize_code(typo) is None
    assert normalize_code(codes[0].lower()[:7] + "-" + codes[0].lower()[7:]) == codes[0]


def test_generation_happens_once_and_only_when_approved(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=3)
    with pytest.raises(DomainError, match="已生成"):
        vouchers.generate_vouchers(ctx, activity.id)


def test_prize_cannot_exceed_coupon_remaining(ctx, open_activity):
    activity, coupon, _m = open_activity(quantity=5)  # coupon has 15, 5 allocated
    draft = Activity(org_id=activity.org_id, title="第二个", start_at=utcnow() + timedelta(hours=1),
                     end_at=utcnow() + timedelta(days=1))
    ctx.add(draft)
    ctx.commit()
    with pytest.raises(DomainError, match="剩余 10"):
        vouchers.add_prize(ctx, draft.id, coupon.id, 11)
    vouchers.add_prize(ctx, draft.id, coupon.id, 10)
    with pytest.raises(DomainError, match="已提交审核"):
        vouchers.add_prize(ctx, activity.id, coupon.id, 1)


def test_activity_review_refuses_self_approval_and_keeps_trail(ctx):
    union = base_of(ctx, county(ctx), 1)
    admin = make_user(ctx, "基层工会管理员", union)
    activity = Activity(org_id=union.id, title="自审测试", start_at=utcnow() + timedelta(hours=1),
                        end_at=utcnow() + timedelta(days=1))
    ctx.add(activity)
    ctx.commit()
    with pytest.raises(DomainError, match="请先添加奖品"):
        vouchers.review_activity(ctx, activity.id, "submit", actor=admin)
    merchant = Merchant(org_id=union.id, name="自审商家")
    ctx.add(merchant)
    ctx.flush()
    from models.vouchers import Coupon

    start, end = window()
    coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="券", name="券", quantity=5, valid_from=start,
                    valid_to=end, face_value=vouchers.money(5), enabled=True)
    ctx.add(coupon)
    ctx.commit()
    vouchers.add_prize(ctx, activity.id, coupon.id, 2)
    vouchers.review_activity(ctx, activity.id, "submit", actor=admin)
    with pytest.raises(SelfApprovalError):
        vouchers.review_activity(ctx, activity.id, "approve", actor=admin)
    with pytest.raises(DomainError, match="只有审核通过"):
        vouchers.operate_activity(ctx, activity.id, "open", actor=admin)
    reviewer = make_user(ctx, "区县工会管理员", union.parent)
    vouchers.review_activity(ctx, activity.id, "reject", actor=reviewer, reason="奖品说明不清")
    steps = ctx.scalars(select(ReviewTrail.action).where(ReviewTrail.entity == "activity",
                                                         ReviewTrail.entity_id == activity.id)).all()
    assert steps == ["submit", "reject"]


def test_claim_once_then_limit(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=3)
    member = claimer(ctx, base_of(ctx, county(ctx), 0))
    voucher = claims.claim_voucher(ctx, activity.id, member.id, now=later())
    assert voucher.status == VoucherStatus.CLAIMED and voucher.member_id == member.id
    with pytest.raises(DomainError, match="已领取过"):
        claims.claim_voucher(ctx, activity.id, member.id, now=later())


def test_claim_n_per_day(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=6, limit=ClaimLimit.DAILY, per_day=2)
    member = claimer(ctx, base_of(ctx, county(ctx), 0))
    claims.claim_voucher(ctx, activity.id, member.id, now=later())
    claims.claim_voucher(ctx, activity.id, member.id, now=later())
    with pytest.raises(DomainError, match="每日上限"):
        claims.claim_voucher(ctx, activity.id, member.id, now=later())
    assert claims.claim_voucher(ctx, activity.id, member.id, now=later() + timedelta(days=1)).claim_slot.endswith("#1")


def test_claim_outside_scope_sold_out_and_before_start(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=1)
    outsider = claimer(ctx, base_of(ctx, county(ctx), 1))
    with pytest.raises(NotFoundError):
        claims.claim_voucher(ctx, activity.id, outsider.id, now=later())
    first, second = (claimer(ctx, base_of(ctx, county(ctx), 0)) for _ in range(2))
    with pytest.raises(DomainError, match="活动尚未开始") as refused:
        claims.claim_voucher(ctx, activity.id, first.id)
    assert refused.value.code == "not_started"
    claims.claim_voucher(ctx, activity.id, first.id, now=later())
    with pytest.raises(DomainError, match="券已领完"):
        claims.claim_voucher(ctx, activity.id, second.id, now=later())


def test_redeem_once_by_authorized_merchants_only(ctx, open_activity):
    activity, coupon, merchant = open_activity(quantity=2)
    member = claimer(ctx, base_of(ctx, county(ctx), 0), name="王小明")
    voucher = claims.claim_voucher(ctx, activity.id, member.id, now=later())
    stranger = Merchant(org_id=activity.org_id, name="别家商户")
    partner = Merchant(org_id=activity.org_id, name="授权商户")
    ctx.add_all([stranger, partner])
    ctx.commit()
    ctx.add(CouponAuthorization(coupon_id=coupon.id, merchant_id=partner.id))
    ctx.commit()
    partner.online = stranger.online = True
    ctx.commit()
    preview = vouchers.preview_voucher(ctx, voucher.code, Redeemer(partner.id, None))
    assert preview["member"] == "王**" and preview["face_value"] == "20.00" and preview["redeemable"]
    with pytest.raises(DomainError, match="无权核销"):
        vouchers.preview_voucher(ctx, voucher.code, Redeemer(stranger.id, None))
    with pytest.raises(DomainError, match="无权核销"):
        vouchers.redeem_voucher(ctx, voucher.code, redeemer=Redeemer(stranger.id, None))
    done = vouchers.redeem_voucher(ctx, voucher.code.lower(), redeemer=Redeemer(partner.id, None))
    assert done.status == VoucherStatus.REDEEMED
    with pytest.raises(DomainError, match="已核销.*授权商户"):
        vouchers.redeem_voucher(ctx, voucher.code, redeemer=Redeemer(merchant.id, None))
    again = vouchers.preview_voucher(ctx, voucher.code, Redeemer(merchant.id, None))
    assert not again["redeemable"] and again["problem"]["code"] == "already_redeemed"
    with pytest.raises(NotFoundError, match="券码无效"):
        vouchers.redeem_voucher(ctx, "ABC", redeemer=Redeemer(merchant.id, None))


def test_expiry_and_closing_are_scheduled_jobs(ctx, open_activity):
    activity, coupon, merchant = open_activity(quantity=2)
    member = claimer(ctx, base_of(ctx, county(ctx), 0))
    voucher = claims.claim_voucher(ctx, activity.id, member.id, now=later())
    after = utcnow() + timedelta(days=40)
    assert vouchers.expire_vouchers(ctx, now=after) >= 2
    assert ctx.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity.id,
                                                          Voucher.status == VoucherStatus.EXPIRED)) == 2
    with pytest.raises(DomainError, match="过期"):
        vouchers.redeem_voucher(ctx, voucher.code, redeemer=Redeemer(merchant.id, None), now=after)
    assert vouchers.close_ended_activities(ctx, now=after) >= 1
    ctx.refresh(activity)
    assert activity.run_status == "closed"


def test_money_rounds_half_up_to_the_fen():
    assert str(vouchers.money("8323.045")) == "8323.05" and str(vouchers.money(0.125)) == "0.13"


def test_scheduled_tasks_run_the_services(ctx, open_activity):
    from app.tasks import close_ended_activities, expire_vouchers

    activity, _coupon, _merchant = open_activity(quantity=1)
    activity.end_at = utcnow() - timedelta(minutes=1)
    ctx.commit()
    assert close_ended_activities.apply().get() >= 1
    ctx.expire_all()
    assert ctx.get(Activity, activity.id).run_status == "closed"
    assert expire_vouchers.apply().get() >= 0
