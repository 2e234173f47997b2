"""Seed-003 rules (requirements/vouchers-gaps.md), called on the services: who may claim, birthday
cakes, the redemption window to the minute, 开启/关闭 as a toggle, withdrawal after submission, the
frozen face value, coupons authorized to a person, offline merchants."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.services import claims, vouchers
from app.services.errors import DomainError
from app.services.vouchers import Redeemer
from models.base import DISPLAY_TZ, utcnow
from models.members import CertStatus, MembershipStatus
from models.vouchers import (
    Activity,
    ActivityEligibility,
    ActivityPhase,
    ActivityStatus,
    Coupon,
    CouponAuthorization,
    Merchant,
    Voucher,
    VoucherStatus,
)
from tests.factories import base_of, county, make_member, make_user
from tests.vouchers.conftest import claimer, later


def _bj(*args) -> datetime:
    return datetime(*args, tzinfo=DISPLAY_TZ)


def _union(ctx, index=0):
    return base_of(ctx, county(ctx), index)


# --- who may claim (S003:L23) ---------------------------------------------------------------
@pytest.mark.parametrize(("cert", "status", "code"), [
    (CertStatus.UNVERIFIED, MembershipStatus.ACTIVE, "not_certified"),
    (CertStatus.PENDING, MembershipStatus.ACTIVE, "not_certified"),
    (CertStatus.REJECTED, MembershipStatus.ACTIVE, "not_certified"),
    (CertStatus.VERIFIED, MembershipStatus.RETIRED, "not_active"),
    (CertStatus.VERIFIED, MembershipStatus.TRANSFERRED_OUT, "not_active"),
])
def test_only_certified_active_members_claim(ctx, open_activity, cert, status, code):
    activity, _c, _m = open_activity(quantity=2)
    member = make_member(ctx, _union(ctx))
    member.cert_status, member.status = cert, status
    ctx.commit()
    with pytest.raises(DomainError) as refused:
        claims.claim_voucher(ctx, activity.id, member.id, now=later())
    assert refused.value.code == code and "工会福利" in refused.value.message
    assert ctx.scalar(select(Voucher.id).where(Voucher.member_id == member.id)) is None
    listed = {e.activity.id: e for e in claims.joinable_activities(ctx, member.id, now=later())}
    assert listed[activity.id].claimable is False and listed[activity.id].refusal.code == code


def test_activity_list_flags_not_started_and_claimable(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=2)
    member = claimer(ctx, _union(ctx))
    before = {e.activity.id: e for e in claims.joinable_activities(ctx, member.id)}[activity.id]
    assert before.refusal.code == "not_started" and "起可领取" in before.refusal.message
    assert activity.phase == ActivityPhase.NOT_STARTED and activity.run_status_label == "未开始"
    during = {e.activity.id: e for e in claims.joinable_activities(ctx, member.id, now=later())}[activity.id]
    assert during.claimable and during.refusal is None


# --- birthday cake (gap 6, A-24): born 1990-09-15 may claim in 2025-09-01 … 2025-09-30 ------------
def _birthday_activity(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=3)
    activity.eligibility = ActivityEligibility.BIRTHDAY_MONTH
    activity.start_at, activity.end_at = _bj(2025, 9, 1, 0, 0), _bj(2025, 9, 30, 23, 59)
    ctx.commit()
    return activity


def test_birthday_cake_goes_to_members_born_in_the_month(ctx, open_activity):
    from tests.factories import new_id_number

    activity = _birthday_activity(ctx, open_activity)
    september = claimer(ctx, _union(ctx), id_number=new_id_number(birth=date(1990, 9, 15)))
    october = claimer(ctx, _union(ctx), id_number=new_id_number(birth=date(1990, 10, 1)))
    assert september.birth_date == date(1990, 9, 15) and october.birth_date == date(1990, 10, 1)
    on = _bj(2025, 9, 15, 10, 0)
    assert claims.claim_voucher(ctx, activity.id, september.id, now=on).member_id == september.id
    with pytest.raises(DomainError) as refused:
        claims.claim_voucher(ctx, activity.id, october.id, now=on)
    assert refused.value.code == "not_eligible"
    # the window reading of A-24 (a setting) gives the same answer for a one-month activity
    assert claims.birthday_matches(date(1990, 9, 15), now=on, start_at=activity.start_at, end_at=activity.end_at,
                                   rule="activity_window")
    assert not claims.birthday_matches(date(1990, 10, 1), now=on, start_at=activity.start_at,
                                       end_at=activity.end_at, rule="activity_window")


def test_activity_numbers_are_bounded(ctx):
    activity = Activity(org_id=_union(ctx).id, title="大数", claim_limit="once", claims_per_day=99999999999,
                        start_at=utcnow() + timedelta(days=1), end_at=utcnow() + timedelta(days=3))
    with pytest.raises(DomainError, match="每天可领取次数须在 1 到 100 之间"):
        vouchers.prepare_activity(activity, is_created=True)


def test_birthday_activity_is_claimed_once(ctx):
    activity = Activity(org_id=_union(ctx).id, title="生日蛋糕", eligibility=ActivityEligibility.BIRTHDAY_MONTH,
                        claim_limit="daily", claims_per_day=2, start_at=utcnow() + timedelta(days=1),
                        end_at=utcnow() + timedelta(days=30))
    with pytest.raises(DomainError, match="限领一次"):
        vouchers.prepare_activity(activity, is_created=True)


# --- the redemption window, to the minute (gap 2, S003:L398) -----------------------------------
def _claimed_in_window(ctx, open_activity, valid_from, valid_to):
    activity, coupon, merchant = open_activity(quantity=2)
    # the seed's example window; the coupon is locked now, so set it directly as a union admin would have
    ctx.execute(Coupon.__table__.update().where(Coupon.id == coupon.id).values(valid_from=valid_from,
                                                                                valid_to=valid_to))
    ctx.execute(Voucher.__table__.update().where(Voucher.coupon_id == coupon.id).values(expires_at=valid_to))
    ctx.commit()
    member = claimer(ctx, _union(ctx))
    code = claims.claim_voucher(ctx, activity.id, member.id, now=later()).code
    return code, Redeemer(merchant.id, None)


def test_redemption_window_is_to_the_minute(ctx, open_activity):
    start, end = _bj(2020, 9, 24, 0, 0), _bj(2020, 10, 1, 15, 0)
    code, shop = _claimed_in_window(ctx, open_activity, start, end)
    with pytest.raises(DomainError) as early:
        vouchers.redeem_voucher(ctx, code, redeemer=shop, now=start - timedelta(minutes=1))
    assert early.value.code == "not_yet_valid" and early.value.message == "该券自 2020-09-24 00:00 起可核销"
    preview = vouchers.preview_voucher(ctx, code, shop, now=start - timedelta(minutes=1))
    assert preview["problem"]["code"] == "not_yet_valid" and preview["valid_from"] == "2020-09-24 00:00"
    with pytest.raises(DomainError) as late:
        vouchers.redeem_voucher(ctx, code, redeemer=shop, now=end + timedelta(minutes=1))
    assert late.value.code == "expired" and "2020-10-01 15:00" in late.value.message
    done = vouchers.redeem_voucher(ctx, code, redeemer=shop, now=end)  # the last minute still counts
    assert done.status == VoucherStatus.REDEEMED


def test_expiry_job_runs_on_the_datetime(ctx, open_activity):
    start, end = _bj(2020, 9, 24, 0, 0), _bj(2020, 10, 1, 15, 0)
    code, _shop = _claimed_in_window(ctx, open_activity, start, end)
    voucher = ctx.scalar(select(Voucher).where(Voucher.code == code))
    vouchers.expire_vouchers(ctx, now=end - timedelta(minutes=1))
    ctx.refresh(voucher)
    assert voucher.status == VoucherStatus.CLAIMED
    vouchers.expire_vouchers(ctx, now=end + timedelta(minutes=1))
    ctx.refresh(voucher)
    assert voucher.status == VoucherStatus.EXPIRED and voucher.status_label == "已过期"


def test_coupon_window_must_be_ordered(ctx):
    merchant = ctx.scalars(select(Merchant)).first()
    coupon = Coupon(merchant_id=merchant.id, title="券", name="券", quantity=1, face_value=1,
                    valid_from=_bj(2026, 10, 1, 15, 0), valid_to=_bj(2026, 10, 1, 15, 0))
    with pytest.raises(DomainError, match="结束时间须晚于开始时间"):
        vouchers.prepare_coupon(ctx, coupon)
    coupon.valid_to, coupon.quantity = _bj(2026, 10, 2, 0, 0), 99999999999
    with pytest.raises(DomainError, match="不能超过"):
        vouchers.prepare_coupon(ctx, coupon)
    ctx.rollback()


# --- 开启 / 关闭 and withdrawal (gaps 3, 4) ------------------------------------------------------
def test_open_close_is_a_toggle_until_the_end(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=1)
    actor = make_user(ctx, "基层工会管理员", _union(ctx))
    assert vouchers.operate_activity(ctx, activity.id, "close", actor=actor).run_status == "closed"
    assert vouchers.operate_activity(ctx, activity.id, "open", actor=actor).run_status == "open"
    with pytest.raises(DomainError, match="不能执行"):
        vouchers.operate_activity(ctx, activity.id, "open", actor=actor)
    with pytest.raises(DomainError, match="活动已结束"):
        vouchers.operate_activity(ctx, activity.id, "close", actor=actor, now=activity.end_at + timedelta(minutes=1))


def _pending(ctx, quantity=4):
    union = _union(ctx, 2)
    merchant = Merchant(org_id=union.id, name="撤回商家", online=True)
    ctx.add(merchant)
    ctx.flush()
    coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="撤回券", name="券", quantity=10, face_value=5,
                    valid_from=utcnow(), valid_to=utcnow() + timedelta(days=9), enabled=True)
    activity = Activity(org_id=union.id, title="撤回测试", start_at=utcnow() + timedelta(days=1),
                        end_at=utcnow() + timedelta(days=5))
    ctx.add_all([coupon, activity])
    ctx.commit()
    vouchers.add_prize(ctx, activity.id, coupon.id, quantity)
    admin = make_user(ctx, "基层工会管理员", union)
    vouchers.review_activity(ctx, activity.id, "submit", actor=admin)
    return activity, coupon, admin


def test_a_submitted_activity_is_closed_never_deleted(ctx):
    activity, coupon, admin = _pending(ctx)
    ctx.refresh(coupon)
    assert coupon.allocated == 4
    with pytest.raises(DomainError, match="不能删除"):
        vouchers.check_activity_deletable(activity)
    withdrawn = vouchers.operate_activity(ctx, activity.id, "close", actor=admin)
    assert (withdrawn.status, withdrawn.run_status, withdrawn.status_label) == ("withdrawn", "closed", "已撤回")
    ctx.refresh(coupon)
    assert coupon.allocated == 0  # the prizes' allocation went back to the coupon
    for action in ("open", "close"):
        with pytest.raises(DomainError):
            vouchers.operate_activity(ctx, activity.id, action, actor=admin)
    with pytest.raises(DomainError):
        vouchers.review_activity(ctx, activity.id, "approve", actor=make_user(ctx, "业务审核员", _union(ctx, 2).parent))


def test_review_sets_the_review_time(ctx):
    activity, _coupon, _admin = _pending(ctx)
    assert activity.reviewed_at is None
    reviewer = make_user(ctx, "业务审核员", _union(ctx, 2).parent)
    approved = vouchers.review_activity(ctx, activity.id, "approve", actor=reviewer)
    assert approved.reviewed_at is not None and abs(approved.reviewed_at - utcnow()) < timedelta(minutes=1)


# --- the frozen face value and the coupon lock (§2.4) -----------------------------------------
def test_face_value_is_frozen_on_vouchers_and_locked_on_the_coupon(ctx, open_activity):
    activity, coupon, _m = open_activity(quantity=2)
    assert set(ctx.scalars(select(Voucher.face_value).where(Voucher.activity_id == activity.id))) == {
        vouchers.money(20)}
    for field, value in (("face_value", vouchers.money(999)), ("valid_to", utcnow() + timedelta(days=400)),
                         ("valid_from", utcnow() - timedelta(days=400))):
        ctx.refresh(coupon)
        setattr(coupon, field, value)
        with pytest.raises(DomainError, match="不能再修改"):
            vouchers.prepare_coupon(ctx, coupon)
        ctx.rollback()
    ctx.refresh(coupon)
    coupon.quantity = 1  # below the 2 allocated
    with pytest.raises(DomainError, match="不能少于已分配"):
        vouchers.prepare_coupon(ctx, coupon)
    ctx.rollback()
    ctx.refresh(coupon)
    coupon.title, coupon.quantity = "改个标题", coupon.quantity + 5  # what is not summed may still change
    vouchers.prepare_coupon(ctx, coupon)
    ctx.commit()


# --- authorized to a person and offline merchants --------------------------------------
def test_person_authorized_redeems_booked_to_the_coupons_merchant(ctx, open_activity):
    activity, coupon, merchant = open_activity(quantity=2)
    person = make_user(ctx, "商家管理员", None)  # an account bound to no merchant
    assert vouchers.find_redeemer_account(ctx, person.username, {"商家管理员"}).id == person.id
    assert vouchers.find_redeemer_account(ctx, person.username[:-1], {"商家管理员"}) is None  # exact names only
    assert vouchers.find_redeemer_account(ctx, "county_admin", {"商家管理员"}) is None  # cannot redeem
    code = claims.claim_voucher(ctx, activity.id, claimer(ctx, _union(ctx)).id, now=later()).code
    alone = Redeemer.of(person)
    assert not vouchers.may_redeem_anything(ctx, alone)
    with pytest.raises(DomainError) as refused:
        vouchers.redeem_voucher(ctx, code, redeemer=alone)
    assert refused.value.code == "not_authorized"
    vouchers.authorize_coupon(ctx, coupon, user=person)
    vouchers.authorize_coupon(ctx, coupon, user=person)  # idempotent
    assert ctx.scalar(select(CouponAuthorization.id).where(CouponAuthorization.user_id == person.id)) is not None
    done = vouchers.redeem_voucher(ctx, code, redeemer=alone)
    assert (done.redeemed_merchant_id, done.redeemed_by_id) == (merchant.id, person.id)


def test_offline_merchants_are_not_offered_and_cannot_redeem(ctx, open_activity):
    activity, coupon, merchant = open_activity(quantity=2)
    partner = Merchant(org_id=activity.org_id, name="规则下线伙伴", online=True)
    ctx.add(partner)
    ctx.commit()
    assert partner in vouchers.authorization_candidates(ctx, coupon, "规则下线")
    vouchers.authorize_coupon(ctx, coupon, merchant=partner)
    code = claims.claim_voucher(ctx, activity.id, claimer(ctx, _union(ctx)).id, now=later()).code
    partner.online = False
    ctx.commit()
    assert partner not in vouchers.authorization_candidates(ctx, coupon, "规则下线")
    with pytest.raises(DomainError) as refused:
        vouchers.redeem_voucher(ctx, code, redeemer=Redeemer(partner.id, None))
    assert refused.value.code == "merchant_offline"
    with pytest.raises(DomainError, match="已下线"):
        vouchers.authorize_coupon(ctx, coupon, merchant=partner)
    ctx.refresh(ctx.get(Voucher, ctx.scalar(select(Voucher.id).where(Voucher.code == code))))
    assert ctx.scalar(select(Voucher.status).where(Voucher.code == code)) == VoucherStatus.CLAIMED
    merchant.online = False
    ctx.commit()
    with pytest.raises(DomainError) as own:
        vouchers.redeem_voucher(ctx, code, redeemer=Redeemer(merchant.id, None))
    assert own.value.code == "merchant_offline"
    merchant.online = True
    ctx.commit()


def test_settlement_sums_frozen_face_values_per_activity_and_merchant(ctx, open_activity):
    activity, coupon, merchant = open_activity(quantity=3)
    shop = Redeemer(merchant.id, None)
    for _ in range(3):
        code = claims.claim_voucher(ctx, activity.id, claimer(ctx, _union(ctx)).id, now=later()).code
        vouchers.redeem_voucher(ctx, code, redeemer=shop, now=later())
    ctx.execute(Coupon.__table__.update().where(Coupon.id == coupon.id).values(face_value=500))  # raw edit
    ctx.commit()
    rows = vouchers.settlement_summary(ctx, Voucher.activity_id == activity.id)
    assert [(r.activity, r.merchant, r.count, str(r.total)) for r in rows] == [
        (activity.title, merchant.name, 3, "60.00")]
    assert vouchers.settlement_totals(rows) == (3, vouchers.money(60))
    assert ActivityStatus.APPROVED == ctx.get(Activity, activity.id).status
