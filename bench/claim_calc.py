"""申领计算 as a pure function: 100,000 cases with mixed rules (progressive, daily allowance with day
cumulation, fixed sums per share and per disability grade, annual caps), no database.

python bench/claim_calc.py [CASES]   (default 100000)
Last line: cases=… per_s=… seconds=… total=…   (target per_s ≥ 50,000)
"""
from __future__ import annotations

import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.mutual_aid.benefits import ClaimFacts, calculate  # noqa: E402
from app.services.mutual_aid.plans import validate_benefit_rule  # noqa: E402

T1 = [{"upto": "10000", "rate": "0.30"}, {"upto": None, "rate": "0.40"}]
RULES = [validate_benefit_rule(r) for r in (
    {"type": "by_kind", "annual_cap": "100000", "kinds": {
        "disease_hospital": {"type": "progressive", "tiers": T1},
        "accident_hospital": {"type": "daily_allowance", "per_day": "50", "max_days": 180},
        "critical_illness": {"type": "fixed_per_share", "amount": "10000"},
        "accident_disability": {"type": "fixed_per_share", "amount": "30000",
                                "grades": {str(g): str(Decimal(11 - g) / 10) for g in range(1, 11)}},
        "accident_death": {"type": "fixed_per_share", "amount": "30000"}}},
    {"type": "progressive", "per_share": True, "annual_cap": "20000", "cap_per_share": True,
     "tiers": [{"upto": "5000", "rate": "0.20"}, {"upto": "20000", "rate": "0.35"}, {"upto": None, "rate": "0.40"}]},
    {"type": "daily_allowance", "per_day": "80", "max_days": 90, "annual_cap": "5000"},
)]
KINDS = ["disease_hospital", "accident_hospital", "critical_illness", "accident_disability", "accident_death"]


def cases(n: int, seed: int = 11):
    rng = random.Random(seed)
    for _ in range(n):
        rule = RULES[rng.randrange(3)]
        yield rule, ClaimFacts(kind=KINDS[rng.randrange(5)], shares=rng.randint(1, 3), days=rng.randint(1, 60),
                               base=Decimal(rng.randrange(1, 6_000_000)) / 100, grade=rng.randint(1, 10),
                               paid_before=Decimal(rng.choice((0, 0, 0, 5000, 60000, 99000))),
                               days_before=rng.choice((0, 0, 100, 170)))


def main(n: int = 100_000) -> None:
    work = list(cases(n))
    started = time.perf_counter()
    total = Decimal(0)
    for rule, facts in work:
        total += calculate(rule, facts).amount
    seconds = time.perf_counter() - started
    print(f"cases={n} per_s={n / seconds:.0f} seconds={seconds:.2f} total={total}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
