"""申领计算 as a pure function (§3.1.4 C1 and C5): the worked examples and the wrong readings."""
from decimal import Decimal

import pytest

from app.services.errors import DomainError
from app.services.mutual_aid import plans
from app.services.mutual_aid.benefits import ClaimFacts, calculate

T1 = [{"upto": "10000", "rate": "0.30"}, {"upto": None, "rate": "0.40"}]
D = Decimal

# The demo rule set (the client's actual figures are still to be confirmed, like the C1 tiers).
DEMO = plans.validate_benefit_rule({
    "type": "by_kind",
    "kinds": {
        "disease_hospital": {"type": "progressive", "tiers": T1},
        "accident_hospital": {"type": "daily_allowance", "per_day": "50", "max_days": "180"},
        "critical_illness": {"type": "fixed_per_share", "amount": "10000"},
        "accident_disability": {"type": "fixed_per_share", "amount": "30000",
                                "grades": {"1": "1.00", "3": "0.80", "10": "0.10"}},
        "accident_death": {"type": "fixed_per_share", "amount": "30000"},
    },
    "annual_cap": "50000",
})


def facts(kind, shares=1, **over):
    return ClaimFacts(kind=kind, shares=shares, **over)


def test_c1_t1_progressive_demo_schedule_gives_8323_04():
    assert calculate(DEMO, facts("disease_hospital", base=D("23307.60"))).amount == D("8323.04")


@pytest.mark.parametrize("tiers", [
    [{"upto": "5000", "rate": "0.20"}, {"upto": None, "rate": "0.40"}],
    [{"upto": "20000", "rate": "0.35"}, {"upto": None, "rate": "0.40"}],
])
def test_c1_t1_other_schedules_passing_the_invariant(tiers):
    rule = {"type": "progressive", "tiers": tiers}
    assert calculate(rule, facts("x", base=D("23307.60"))).amount == D("8323.04")


def test_c1_t2_wrong_readings_are_not_what_we_compute():
    amount = calculate(DEMO, facts("disease_hospital", base=D("23307.60"))).amount
    assert amount != D("9323.04")  # the whole base at the top rate
    # the total instead of the base gives 21,523.22: the base is what is passed
    assert calculate(DEMO, facts("disease_hospital", base=D("56308.05"))).amount == D("21523.22")


@pytest.mark.parametrize("base, amount", [("10000.00", "3000.00"), ("10000.01", "3000.00"), ("0.01", "0.00")])
def test_c1_t3_edges_one_rounding_at_the_end(base, amount):
    assert calculate(DEMO, facts("disease_hospital", base=D(base))).amount == D(amount)


def test_fixed_sum_per_share():
    result = calculate(DEMO, facts("critical_illness", shares=2))
    assert result.amount == D("20000.00")
    assert result.lines[0]["detail"] == "10,000.00 × 2份"


def test_disability_grade_ratio_and_missing_grade():
    assert calculate(DEMO, facts("accident_disability", grade=3)).amount == D("24000.00")
    assert calculate(DEMO, facts("accident_disability", grade=5)).amount == D("0.00")  # grade not covered
    with pytest.raises(DomainError, match="请填写伤残等级"):
        calculate(DEMO, facts("accident_disability"))


def test_daily_allowance_days_times_shares():
    result = calculate(DEMO, facts("accident_hospital", shares=2, days=12))
    assert (result.amount, result.days) == (D("1200.00"), 12)


def test_daily_allowance_cumulates_days_in_the_period():
    result = calculate(DEMO, facts("accident_hospital", shares=2, days=12, days_before=175))
    assert (result.amount, result.days) == (D("500.00"), 5)
    assert calculate(DEMO, facts("accident_hospital", days=3, days_before=180)).amount == D("0.00")


def test_annual_cap_less_what_was_paid_before():
    result = calculate(DEMO, facts("accident_death", shares=2, paid_before=D("25000.00")))
    assert result.amount == D("25000.00")  # 60,000 asked, cap 50,000, 25,000 already paid
    assert result.lines[-1]["item"] == "年度封顶"
    assert calculate(DEMO, facts("critical_illness", paid_before=D("50000.00"))).amount == D("0.00")


def test_kind_cap_per_share_and_plan_cap():
    rule = plans.validate_benefit_rule({"type": "by_kind", "kinds": {
        "critical_illness": {"type": "fixed_per_share", "amount": "10000", "annual_cap": "10000",
                             "cap_per_share": True}}})
    assert calculate(rule, facts("critical_illness", shares=3, kind_paid_before=D("25000"))).amount == D("5000.00")


def test_progressive_per_share():
    rule = {"type": "progressive", "tiers": T1, "per_share": True}
    assert calculate(rule, facts("x", shares=2, base=D("23307.60"))).amount == D("16646.08")


def test_unknown_kind_and_missing_rule_refused_in_chinese():
    with pytest.raises(DomainError, match="未设置「女职工特疾」的给付规则"):
        calculate(DEMO, facts("female_illness", kind_label="女职工特疾"))
    with pytest.raises(DomainError, match="尚未设置给付规则"):
        calculate({}, facts("x"))


def test_validate_by_kind_rule_normalizes_and_refuses():
    assert DEMO["kinds"]["accident_hospital"] == {"type": "daily_allowance", "per_day": "50", "max_days": 180}
    with pytest.raises(DomainError):
        plans.validate_benefit_rule({"type": "by_kind", "kinds": {}})
    with pytest.raises(DomainError, match="比例须在0至1之间"):
        plans.validate_benefit_rule({"type": "fixed_per_share", "amount": "1", "grades": {"1": "2"}})
