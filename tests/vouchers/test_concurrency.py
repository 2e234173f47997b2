"""Races that only a real database shows (SQLite serializes writers): run on PostgreSQL in CI."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.services import claims, vouchers
from app.services.errors import DomainError
from app.services.vouchers import Redeemer
from models.base import utcnow
from models.members import Member
from models.vouchers import CouponAuthorization, Merchant, Voucher, VoucherStatus
from seed.generators import resident_id
from tests.factories import _rng, base_of, county
from tests.vouchers.conftest import later

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(ctx):
    if ctx.get_bind().dialect.name != "postgresql":
        pytest.skip("races need PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")


def _members(ctx, union, n):
    rows = [{"name": "并发测试", "id_number": resident_id(_rng), "org_id": union.id, "id_type": "resident",
             "status": "active", "cert_status": "verified"} for _ in range(n)]
    return list(ctx.execute(insert(Member).returning(Member.id), rows).scalars())


def _race(fn, args, workers=32):
    engine = db.engine  # threads have no app context

    def call(arg):
        with Session(bind=engine) as session:
            try:
                fn(session, arg)
                return "ok"
            except DomainError as err:
                return err.code
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(call, args))


def test_200_claimers_on_50_vouchers_get_exactly_50(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=50)
    ids = _members(ctx, base_of(ctx, county(ctx), 0), 200)
    ctx.commit()
    when, activity_id = later(), activity.id
    results = _race(lambda s, m: claims.claim_voucher(s, activity_id, m, now=when), ids)
    assert results.count("ok") == 50 and results.count("sold_out") == 150
    claimed = ctx.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity.id,
                                                              Voucher.status == VoucherStatus.CLAIMED))
    assert claimed == 50
    assert ctx.scalar(select(func.count(func.distinct(Voucher.member_id))).where(
        Voucher.activity_id == activity.id)) == 50


def test_one_member_racing_itself_gets_one(ctx, open_activity):
    activity, _c, _m = open_activity(quantity=20)
    member_id = _members(ctx, base_of(ctx, county(ctx), 0), 1)[0]
    ctx.commit()
    when, activity_id = later(), activity.id
    results = _race(lambda s, m: claims.claim_voucher(s, activity_id, m, now=when), [member_id] * 30)
    assert results.count("ok") == 1 and set(results) == {"ok", "limit_reached"}
    assert ctx.scalar(select(func.count(Voucher.id)).where(Voucher.member_id == member_id)) == 1


def test_100_redemptions_of_one_code_succeed_once(ctx, open_activity):
    activity, coupon, merchant = open_activity(quantity=1)
    member_id = _members(ctx, base_of(ctx, county(ctx), 0), 1)[0]
    ctx.commit()
    voucher = claims.claim_voucher(ctx, activity.id, member_id, now=later())
    partners = [Merchant(org_id=activity.org_id, name=f"授权{i}", online=True) for i in range(4)]
    ctx.add_all(partners)
    ctx.commit()
    ctx.add_all([CouponAuthorization(coupon_id=coupon.id, merchant_id=p.id) for p in partners])
    ctx.commit()
    shops, code = [merchant.id] + [p.id for p in partners], voucher.code
    results = _race(lambda s, i: vouchers.redeem_voucher(s, code, redeemer=Redeemer(shops[i % 5], None)),
                    range(100))
    assert results.count("ok") == 1 and results.count("already_redeemed") == 99
    assert utcnow() <= voucher.expires_at
