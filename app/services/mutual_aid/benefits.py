"""申领计算 (§3.1.4 C5, C1): the claim amount as a pure function over a benefit rule that is data.

No database, no Flask: ``calculate(rule, facts)`` takes the plan's rule JSON (one version of
``BenefitRule.rule``) and the facts of one case, and returns the amount with its breakdown.
The claims service reads the facts (shares, settlement sheets, what the person already received
in the coverage period) and stores the result with the rule version.

Rule shapes (checked by ``plans.validate_benefit_rule``):
  - one rule for every kind of the plan: ``{"type": "fixed_per_share" | "daily_allowance" |
    "progressive", …, "annual_cap"?}``;
  - a rule per claim kind: ``{"type": "by_kind", "kinds": {formula_key: rule, …}, "annual_cap"?,
    "cap_per_share"?}`` (a kind's own cap applies to that kind, the top cap to the plan).
Types:
  - ``fixed_per_share`` {amount, grades?: {"1": "1.00", …}}: amount × shares (× the grade's ratio
    for 意外伤残);
  - ``daily_allowance`` {per_day, max_days}: per_day × payable days × shares; the days already paid in
    the period count against ``max_days`` (cumulation);
  - ``progressive`` {tiers, per_share?}: C1's marginal segments on the base (× shares when
    ``per_share``).
Caps: ``annual_cap`` (× shares when ``cap_per_share``) per person and coverage period, less what was
already paid (cumulation). Intermediate values are exact; one half-up rounding to the fen at the end,
so an amount below half a fen is 0.00 — and a 0.00 case cannot be submitted (S004:L150).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from app.services.errors import DomainError

FEN = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class ClaimFacts:
    """What one case brings to the calculation."""

    kind: str                      # the claim kind's formula key (e.g. "disease_hospital")
    shares: int                    # 份数 of the person's enrollment plan
    days: int = 0                  # hospital days (Σ settlement sheets)
    base: Decimal = ZERO           # 补助基数 (Σ policy-scope self-paid of the sheets)
    grade: int | None = None       # 伤残等级 1–10
    paid_before: Decimal = ZERO    # cumulation: paid or payable to the person in this period, this plan
    kind_paid_before: Decimal = ZERO  # the same, this kind only (a kind's own cap)
    days_before: int = 0           # allowance days already granted in this period, this kind
    kind_label: str = ""


@dataclass(frozen=True)
class Benefit:
    amount: Decimal                         # to the fen, ≥ 0
    lines: list = field(default_factory=list)  # breakdown: [{"item", "detail", "amount"}]
    days: int = 0                           # allowance days granted (counted against max_days later)

    @property
    def breakdown(self) -> dict:
        return {"lines": self.lines, "amount": str(self.amount)}


def _d(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(FEN, rounding=ROUND_HALF_UP):,}"


def progressive_raw(tiers: list[dict], base: Decimal) -> tuple[Decimal, list]:
    """C1 before rounding: Σ_k rate_k × max(0, min(base, upper_k) − lower_k); the segment lines."""
    lower, total, lines = ZERO, ZERO, []
    for tier in tiers:
        upper = None if tier.get("upto") is None else _d(tier["upto"])
        top = base if upper is None or base < upper else upper
        if top > lower:
            rate = _d(tier["rate"])
            part = rate * (top - lower)
            total += part
            lines.append({"item": "累进分段", "detail": f"({_fmt(top)} − {_fmt(lower)}) × {rate * 100:g}%",
                          "amount": str(part)})
        if upper is None or base <= upper:
            break
        lower = upper
    return total, lines


def _one(rule: dict, facts: ClaimFacts) -> tuple[Decimal, list, int]:
    kind = rule.get("type")
    shares = Decimal(facts.shares)
    if kind == "fixed_per_share":
        amount = _d(rule["amount"])
        grades = rule.get("grades")
        if grades:
            if facts.grade is None:
                raise DomainError("请填写伤残等级", field="disability_grade")
            ratio = grades.get(str(facts.grade))
            if ratio is None:
                return ZERO, [{"item": "伤残等级", "detail": f"{facts.grade}级不在给付范围内", "amount": "0"}], 0
            raw = amount * _d(ratio) * shares
            return raw, [{"item": "每份定额 × 伤残比例",
                          "detail": f"{_fmt(amount)} × {_d(ratio) * 100:g}% × {facts.shares}份", "amount": str(raw)}], 0
        raw = amount * shares
        return raw, [{"item": "每份定额", "detail": f"{_fmt(amount)} × {facts.shares}份", "amount": str(raw)}], 0
    if kind == "daily_allowance":
        per_day, max_days = _d(rule["per_day"]), int(rule["max_days"])
        days = max(0, min(facts.days, max_days - facts.days_before))
        raw = per_day * days * shares
        detail = f"{_fmt(per_day)} × {days}天 × {facts.shares}份"
        if days < facts.days:
            detail += f"（本期最多{max_days}天，已给付{facts.days_before}天）"
        return raw, [{"item": "住院津贴", "detail": detail, "amount": str(raw)}], days
    if kind == "progressive":
        raw, lines = progressive_raw(rule["tiers"], _d(facts.base))
        if rule.get("per_share"):
            raw *= shares
            lines.append({"item": "按份数", "detail": f"× {facts.shares}份", "amount": str(raw)})
        return raw, lines, 0
    raise DomainError("给付规则类型不正确，请联系管理员")


def _cap(rule: dict, raw: Decimal, shares: int, paid_before: Decimal, lines: list, what: str) -> Decimal:
    cap = rule.get("annual_cap")
    if cap in (None, ""):
        return raw
    cap = _d(cap) * (shares if rule.get("cap_per_share") else 1)
    remaining = cap - _d(paid_before)
    if remaining < 0:
        remaining = ZERO
    if raw > remaining:
        lines.append({"item": f"{what}封顶", "detail": f"封顶 {_fmt(cap)}，本期已给付 {_fmt(_d(paid_before))}",
                      "amount": str(remaining)})
        return remaining
    return raw


def calculate(rule: dict, facts: ClaimFacts) -> Benefit:
    """The amount of one case under ``rule``: the kind's formula, the kind's cap, the plan's cap,
    then one half-up rounding to the fen.

    Raises:
        DomainError: the plan has no rule for the kind, or a fact the rule needs is missing.
    """
    if not rule:
        raise DomainError("该保障活动尚未设置给付规则，无法计算")
    if facts.shares < 1:
        raise DomainError("参保份数不正确")
    if rule.get("type") == "by_kind":
        sub = (rule.get("kinds") or {}).get(facts.kind)
        if sub is None:
            raise DomainError(f"该保障活动未设置「{facts.kind_label or facts.kind}」的给付规则")
        raw, lines, days = _one(sub, facts)
        raw = _cap(sub, raw, facts.shares, facts.kind_paid_before, lines, "本类型")
    else:
        raw, lines, days = _one(rule, facts)
    raw = _cap(rule, raw, facts.shares, facts.paid_before, lines, "年度")
    amount = raw.quantize(FEN, rounding=ROUND_HALF_UP)
    if amount < 0:
        amount = ZERO.quantize(FEN)
    return Benefit(amount, lines, days)
