"""Coverage periods and fees (S002:L61–63): the requirement file's exact dates and amounts."""
from datetime import date
from decimal import Decimal

import pytest

from app.services.service_cards.coverage import coverage_period


@pytest.mark.parametrize("registered, start, end, fee", [
    (date(2024, 1, 1), date(2024, 7, 1), date(2025, 6, 30), "24.00"),
    (date(2024, 6, 30), date(2024, 7, 1), date(2025, 6, 30), "24.00"),
    (date(2024, 7, 1), date(2025, 1, 1), date(2025, 6, 30), "12.00"),
    (date(2024, 12, 31), date(2025, 1, 1), date(2025, 6, 30), "12.00"),
])
def test_coverage_period_by_half_year_never_from_registration_date(registered, start, end, fee):
    period = coverage_period(registered)
    assert (period.start, period.end, period.fee) == (start, end, Decimal(fee))
    assert period.start != registered
    assert isinstance(period.fee, Decimal)


def test_h2_registration_needs_h1_registration_to_stay_covered_from_july():
    h2 = coverage_period(date(2024, 9, 15))
    assert h2.end == date(2025, 6, 30)           # not covered on 2025-07-01 ...
    h1 = coverage_period(date(2025, 3, 1))
    assert h1.start == date(2025, 7, 1)          # ... until registered again in H1 2025


def test_funding_report_is_headcount_times_fee(ctx, clerk):
    """1,000 members registered in H1 → 24,000.00; 200 in H2 → 2,400.00 (borne by the union)."""
    from sqlalchemy import select

    from app.services.service_cards.coverage import funding_report, register_members
    from models.members import Member

    ids = ctx.scalars(select(Member.id).where(Member.org_id == clerk.org_id).order_by(Member.id)).all()
    assert len(ids) >= 2
    # the demo union is small: scale the example down and check the product rule on it
    done, skipped = register_members(ctx, [(i, clerk.org_id) for i in ids[:1]], registered_on=date(2031, 3, 1))
    assert (done, skipped) == (1, 0)
    register_members(ctx, [(i, clerk.org_id) for i in ids[1:2]], registered_on=date(2031, 8, 1))
    # an overlapping period for the same member is skipped
    assert register_members(ctx, [(ids[0], clerk.org_id)], registered_on=date(2031, 5, 1)) == (0, 1)
    assert register_members(ctx, [(ids[0], clerk.org_id)], registered_on=date(2031, 9, 1)) == (0, 1)
    lines = {(l.period_start, l.org_id): l for l in funding_report(ctx, actor=clerk)}
    h1 = lines[(date(2031, 7, 1), clerk.org_id)]
    h2 = lines[(date(2032, 1, 1), clerk.org_id)]
    assert (h1.headcount, h1.amount) == (1, Decimal("24.00"))
    assert (h2.headcount, h2.amount) == (1, Decimal("12.00"))
    ctx.rollback()


def test_funding_amount_examples_are_exact():
    from app.services.service_cards.coverage import FEE_HALF_YEAR, FEE_YEAR

    assert FEE_YEAR * 1000 == Decimal("24000.00")
    assert FEE_HALF_YEAR * 200 == Decimal("2400.00")


@pytest.mark.parametrize("submitted_utc, start, fee", [
    ("2024-06-30T15:59:00+00:00", date(2024, 7, 1), "24.00"),   # 23:59 on 30 June in Beijing: H1
    ("2024-06-30T16:30:00+00:00", date(2025, 1, 1), "12.00"),   # 00:30 on 1 July in Beijing: H2
])
def test_the_batch_submission_beijing_date_decides_the_half_year(ctx, submitted, county_admin, submitted_utc, start,
                                                                 fee):
    """A-13: the base union's submission timestamp (Beijing date) decides H1 / H2."""
    from datetime import datetime

    from sqlalchemy import select

    from app.services.service_cards import batches
    from models.service_cards import CoverageRegistration

    submitted.submitted_at = datetime.fromisoformat(submitted_utc)
    ctx.commit()
    batches.receive_batch(ctx, submitted.id, actor=county_admin, counted=3)
    regs = ctx.scalars(select(CoverageRegistration).where(CoverageRegistration.batch_id == submitted.id)).all()
    assert {(r.period_start, r.period_end, r.fee) for r in regs} == {(start, date(2025, 6, 30), Decimal(fee))}
    assert {r.registered_on for r in regs} == {date.fromisoformat(submitted_utc[:10]) if fee == "24.00"
                                               else date(2024, 7, 1)}


def test_city_share_splits_the_union_fee_rounded_once(ctx, clerk):
    from sqlalchemy import select

    from app.services.service_cards.coverage import city_share, funding_report, register_members
    from models.members import Member

    ids = ctx.scalars(select(Member.id).where(Member.org_id == clerk.org_id).order_by(Member.id)).all()
    register_members(ctx, [(i, clerk.org_id) for i in ids[:3]], registered_on=date(2033, 2, 1))
    line = next(l for l in funding_report(ctx, actor=clerk, share=city_share("0.333"))
                if l.period_start == date(2033, 7, 1))
    assert (line.headcount, line.amount, line.city_part, line.union_part) == (
        3, Decimal("72.00"), Decimal("23.98"), Decimal("48.02"))
    assert city_share("abc") == 0 and city_share("2") == 0
    ctx.rollback()


def test_yearly_registration_of_the_union_card_holders(ctx, issued, clerk):
    """年度集体注册: the union's card holders for the period of the day; a second run adds nothing."""
    from datetime import datetime, timezone

    from app.services.service_cards.coverage import register_union

    at = datetime(2031, 2, 1, 2, 0, tzinfo=timezone.utc)
    done, skipped = register_union(ctx, actor=clerk, at=at)
    assert done >= 3 and skipped == 0  # the batch's three (and cards of earlier tests of this union)
    assert register_union(ctx, actor=clerk, at=at) == (0, done)


def test_yearly_registration_refused_outside_a_base_union(ctx, county_admin):
    from app.services.errors import DomainError
    from app.services.service_cards.coverage import register_union

    with pytest.raises(DomainError, match="基层工会"):
        register_union(ctx, actor=county_admin)
