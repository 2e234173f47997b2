"""保障活动 and benefit rules as data (versioned); C1 progressive amounts (T1–T3)."""
from datetime import date
from decimal import Decimal

import pytest

from app.services.errors import DomainError
from app.services.mutual_aid import plans
from models.mutual_aid import CoverageMode, ProtectionPlan

T1 = [{"upto": "10000", "rate": "0.30"}, {"upto": None, "rate": "0.40"}]


def test_c1_t1_the_seed_example_on_the_demo_schedule():
    assert plans.progressive_amount(T1, Decimal("23307.60")) == Decimal("8323.04")


@pytest.mark.parametrize("tiers", [
    [{"upto": "5000", "rate": "0.20"}, {"upto": None, "rate": "0.40"}],
    [{"upto": "20000", "rate": "0.35"}, {"upto": None, "rate": "0.40"}],
])
def test_c1_other_schedules_of_the_invariant_give_the_same_amount(tiers):
    assert plans.progressive_amount(tiers, Decimal("23307.60")) == Decimal("8323.04")


def test_c1_t2_wrong_readings_differ():
    assert plans.progressive_amount(T1, Decimal("23307.60")) != Decimal("9323.04")  # whole base at the top rate
    assert plans.progressive_amount(T1, Decimal("56308.05")) == Decimal("21523.22")  # the total instead of the base


@pytest.mark.parametrize("base, amount", [("10000.00", "3000.00"), ("10000.01", "3000.00"), ("0.01", "0.00")])
def test_c1_t3_edges_round_once_at_the_end(base, amount):
    assert plans.progressive_amount(T1, Decimal(base)) == Decimal(amount)


def test_benefit_rules_are_validated_and_versioned(ctx, plan, office_staff):
    first = plans.add_benefit_rule(ctx, plan.id, {"type": "progressive", "tiers": T1}, effective_from=date(2025, 1, 1),
                                   note="演示分段", actor=office_staff)
    second = plans.add_benefit_rule(ctx, plan.id, {"type": "daily_allowance", "per_day": 50, "max_days": 180},
                                    effective_from=date(2026, 1, 1), note=None, actor=office_staff)
    assert (first.version, second.version) == (1, 2)
    assert plans.current_rule(ctx, plan.id, date(2025, 6, 1)).version == 1
    assert plans.current_rule(ctx, plan.id, date(2026, 6, 1)).rule == {"type": "daily_allowance", "per_day": "50",
                                                                       "max_days": 180}


@pytest.mark.parametrize("rule, message", [
    ({"type": "magic"}, "给付规则类型须为"),
    ({"type": "progressive", "tiers": [{"upto": "100", "rate": "0.3"}, {"upto": "50", "rate": "0.4"}]}, "逐段递增"),
    ({"type": "progressive", "tiers": [{"upto": None, "rate": "0.3"}, {"upto": "50", "rate": "0.4"}]}, "最后一段"),
    ({"type": "progressive", "tiers": [{"upto": None, "rate": "1.5"}]}, "比例须在0至1之间"),
    ({"type": "fixed_per_share", "amount": "abc"}, "须为数字"),
])
def test_malformed_rules_are_refused_in_chinese(rule, message):
    with pytest.raises(DomainError, match=message):
        plans.validate_benefit_rule(rule)


def test_plan_rules_are_checked(office):
    bad = ProtectionPlan(code="X", name="x", org_id=office.id, price=Decimal("0"), max_shares=1)
    with pytest.raises(DomainError, match="会费单价须大于0"):
        plans.validate_plan(bad)
    fixed = ProtectionPlan(code="Y", name="y", org_id=office.id, price=Decimal("10"), max_shares=1,
                           coverage_mode=CoverageMode.FIXED, coverage_start=date(2025, 2, 1))
    with pytest.raises(DomainError, match="固定保障期"):
        plans.validate_plan(fixed)


def test_coverage_months_end_the_day_before_the_same_date(office):
    plan = ProtectionPlan(price=Decimal("1"), coverage_mode=CoverageMode.MONTHS, coverage_months=12)
    assert plans.coverage_for(plan, date(2025, 1, 31)) == (date(2025, 2, 1), date(2026, 1, 31))
    fixed = ProtectionPlan(coverage_mode=CoverageMode.FIXED, coverage_start=date(2025, 1, 1),
                           coverage_end=date(2025, 12, 31))
    assert plans.coverage_for(fixed, date(2025, 6, 1)) == (date(2025, 1, 1), date(2025, 12, 31))


def test_default_base_is_total_minus_the_sheets_payments():
    from decimal import Decimal

    from app.services.mutual_aid.plans import default_base

    # C1's pair split as 统筹 30,000.00 + 全自费 3,000.45: 56,308.05 − 33,000.45 = 23,307.60
    assert default_base(Decimal("56308.05"), Decimal("30000.00"), Decimal(0), Decimal(0),
                        Decimal("3000.45")) == Decimal("23307.60")
    assert default_base(Decimal("100.00"), Decimal("150.00")) == Decimal("0.00")
