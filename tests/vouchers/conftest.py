"""Voucher fixtures: a merchant with a coupon, an approved and opened activity, certified claimers."""
from datetime import timedelta

import pytest

from app.services import claims, vouchers
from models.base import utcnow
from models.members import CertStatus
from models.vouchers import Activity, ActivityScope, ClaimLimit, Coupon, Merchant
from tests.factories import base_of, county, make_member, make_user


def window(days=30, *, start_days=-1):
    """A coupon's redemption window around now: (valid_from, valid_to), aware."""
    return utcnow() + timedelta(days=start_days), utcnow() + timedelta(days=days)


def claimer(session, union, **fields):
    """A member who may claim welfare: 已认证, 在会 (seed 003 L23)."""
    member = make_member(session, union, **fields)
    member.cert_status = CertStatus.VERIFIED
    session.commit()
    return member


@pytest.fixture()
def open_activity(ctx):
    """Factory: an approved, open activity of ``union`` with one prize of ``quantity``."""

    def make(quantity=5, *, union=None, limit=ClaimLimit.ONCE, per_day=1, scope=ActivityScope.OWN):
        union = union or base_of(ctx, county(ctx), 0)
        merchant = Merchant(org_id=union.id, name="测试商家", mobile="13800138000", online=True)
        ctx.add(merchant)
        ctx.flush()
        valid_from, valid_to = window()
        coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="满100减20", name="代金券", quantity=quantity + 10,
                        valid_from=valid_from, valid_to=valid_to, face_value=vouchers.money("20"), enabled=True)
        ctx.add(coupon)
        activity = Activity(org_id=union.id, title="领券测试", claim_limit=limit, claims_per_day=per_day,
                            scope=scope, start_at=utcnow() + timedelta(minutes=5),
                            end_at=utcnow() + timedelta(days=10))
        ctx.add(activity)
        ctx.commit()
        vouchers.add_prize(ctx, activity.id, coupon.id, quantity)
        submitter, reviewer = make_user(ctx, "基层工会管理员", union), make_user(ctx, "区县工会管理员", union.parent)
        vouchers.review_activity(ctx, activity.id, "submit", actor=submitter)
        vouchers.review_activity(ctx, activity.id, "approve", actor=reviewer)
        vouchers.generate_vouchers(ctx, activity.id)
        vouchers.operate_activity(ctx, activity.id, "open", actor=submitter)
        return activity, coupon, merchant

    return make


def later():
    return utcnow() + timedelta(hours=1)


@pytest.fixture()
def demo_claimed(ctx):
    """Factory: a fresh voucher of the demo merchant's coupon, claimed by a new member of its union.
    Returns (voucher, merchant)."""
    from sqlalchemy import select

    from models.security import AppUser
    from models.vouchers import Voucher

    def make(name="李核销"):
        merchant = ctx.get(Merchant, ctx.scalar(select(AppUser.merchant_id).where(AppUser.username == "merchant")))
        coupon = ctx.scalar(select(Coupon).where(Coupon.merchant_id == merchant.id))
        voucher = ctx.scalar(select(Voucher).where(Voucher.coupon_id == coupon.id, Voucher.status == "unclaimed"))
        ctx.get(Activity, voucher.activity_id).start_at = utcnow() - timedelta(hours=1)
        ctx.commit()
        member = claimer(ctx, merchant.org, name=name)
        claimed = claims.claim_voucher(ctx, voucher.activity_id, member.id)
        return ctx.get(Voucher, claimed.id), merchant

    return make
