"""保障活动 rules: a plan's prices, shares and coverage; benefit rules as versioned data; the
progressive (累进制) calculation C1 that claims and subsidies use."""
from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from models.mutual_aid import BenefitRule, CoverageMode, ProtectionPlan

FEN = Decimal("0.01")


def money(value) -> Decimal:
    """Exact money to the fen, half-up (the one rounding, at the end)."""
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


def validate_plan(plan: ProtectionPlan) -> None:
    """Rules: prices positive (the high-risk price too, when given), 1 ≤ max shares ≤ 100, a
    consistent coverage rule, an age range low ≤ high, on-sale dates in order.

    Raises:
        DomainError: the first rule broken, in Chinese.
    """
    if plan.price is None or Decimal(plan.price) <= 0:
        raise DomainError("会费单价须大于0", field="price")
    if plan.price_high is not None and Decimal(plan.price_high) <= 0:
        raise DomainError("高危会费单价须大于0（无高危人群请留空）", field="price_high")
    plan.coverage_mode = plan.coverage_mode or CoverageMode.MONTHS
    if plan.coverage_mode == CoverageMode.MONTHS and plan.coverage_months is None:
        plan.coverage_months = 12
    if plan.enabled is None:
        plan.enabled = True
    if not plan.max_shares or not 1 <= plan.max_shares <= 100:
        raise DomainError("最多份数须在1至100之间", field="max_shares")
    if plan.coverage_mode == CoverageMode.FIXED:
        if not plan.coverage_start or not plan.coverage_end or plan.coverage_start > plan.coverage_end:
            raise DomainError("固定保障期须填写开始和结束日期，且开始不晚于结束", field="coverage_start")
    elif not plan.coverage_months or not 1 <= plan.coverage_months <= 60:
        raise DomainError("保障月数须在1至60之间", field="coverage_months")
    if plan.min_age is not None and plan.max_age is not None and plan.min_age > plan.max_age:
        raise DomainError("年龄下限不能高于上限", field="min_age")
    if plan.on_sale_from and plan.on_sale_to and plan.on_sale_from > plan.on_sale_to:
        raise DomainError("销售开始日期不能晚于结束日期", field="on_sale_from")
    if plan.eligible_gender not in (None, "", "female", "male"):
        raise DomainError("适用性别不正确", field="eligible_gender")
    plan.eligible_gender = plan.eligible_gender or None


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def coverage_for(plan: ProtectionPlan, confirmed_on: date) -> tuple[date, date]:
    """The coverage of a person enrolled in ``plan`` whose payment was confirmed on ``confirmed_on``:
    the plan's fixed dates, or from the next day for ``coverage_months`` months."""
    if plan.coverage_mode == CoverageMode.FIXED:
        return plan.coverage_start, plan.coverage_end
    start = confirmed_on + timedelta(days=1)
    return start, add_months(start, plan.coverage_months) - timedelta(days=1)


# --- benefit rules --------------------------------------------------------------------
RULE_TYPES = {"fixed_per_share": "每份定额", "daily_allowance": "住院津贴（按天）", "progressive": "累进制"}
BY_KIND = "by_kind"  # a rule per claim kind: {"type": "by_kind", "kinds": {formula_key: rule}} (benefits.py)


def _amount(value, what: str) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(f"{what}须为数字") from None
    if number < 0 or not number.is_finite():
        raise DomainError(f"{what}不能为负数")
    return str(number)


def _ratio(value, what: str) -> str:
    ratio = _amount(value, what)
    if Decimal(ratio) > 1:
        raise DomainError(f"{what}须在0至1之间（如 0.30）")
    return ratio


def validate_benefit_rule(rule) -> dict:
    """A benefit rule as data, normalized (numbers as strings, exact). Types:
    ``fixed_per_share`` {amount, grades?: {"1": ratio, …}}; ``daily_allowance`` {per_day, max_days};
    ``progressive`` {tiers: [{upto, rate}, …, {upto: null, rate}], per_share?} with strictly increasing
    bounds; ``by_kind`` {kinds: {formula key: one of those}} for plans offering several claim kinds;
    optional ``annual_cap`` (and ``cap_per_share``) for every type.

    Raises:
        DomainError: unknown type or malformed values.
    """
    if isinstance(rule, dict) and rule.get("type") == BY_KIND:
        kinds = rule.get("kinds")
        if not isinstance(kinds, dict) or not kinds:
            raise DomainError("按申领类型设置的规则须列出各类型的规则")
        out: dict = {"type": BY_KIND, "kinds": {str(key): validate_benefit_rule(sub) for key, sub in kinds.items()}}
        return _caps(rule, out)
    if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
        raise DomainError(f"给付规则类型须为：{'、'.join(RULE_TYPES.values())}")
    out = {"type": rule["type"]}
    if rule["type"] == "fixed_per_share":
        out["amount"] = _amount(rule.get("amount"), "每份给付金额")
        if rule.get("grades"):
            if not isinstance(rule["grades"], dict):
                raise DomainError("伤残等级比例须按等级列出")
            out["grades"] = {str(int(k)): _ratio(v, "伤残给付比例") for k, v in rule["grades"].items()
                             if str(k).isdigit()}
    elif rule["type"] == "daily_allowance":
        out["per_day"] = _amount(rule.get("per_day"), "每天津贴")
        try:
            out["max_days"] = int(rule.get("max_days"))
        except (TypeError, ValueError):
            raise DomainError("最多给付天数须为整数") from None
    else:
        tiers = rule.get("tiers")
        if not isinstance(tiers, list) or not tiers:
            raise DomainError("累进制须列出分段")
        out["tiers"], last = [], Decimal(0)
        for index, tier in enumerate(tiers):
            upto = tier.get("upto") if isinstance(tier, dict) else None
            rate = _ratio(tier.get("rate") if isinstance(tier, dict) else None, "比例")
            if upto is None:
                if index != len(tiers) - 1:
                    raise DomainError("只有最后一段可以不设上限")
            else:
                upto = _amount(upto, "分段上限")
                if Decimal(upto) <= last:
                    raise DomainError("分段上限须逐段递增")
                last = Decimal(upto)
            out["tiers"].append({"upto": upto, "rate": rate})
        if rule.get("per_share"):
            out["per_share"] = True
    return _caps(rule, out)


def _caps(rule: dict, out: dict) -> dict:
    if rule.get("annual_cap") not in (None, ""):
        out["annual_cap"] = _amount(rule["annual_cap"], "年度封顶")
        if rule.get("cap_per_share"):
            out["cap_per_share"] = True
    return out


def progressive_amount(tiers: list[dict], base) -> Decimal:
    """C1: Σ_k rate_k × max(0, min(base, upper_k) − lower_k), rates per segment, one half-up
    rounding to the fen at the end. 23,307.60 on ≤10,000 at 30 % and above at 40 % → 8,323.04."""
    from .benefits import progressive_raw

    return money(progressive_raw(tiers, Decimal(str(base)))[0])


def add_benefit_rule(session: Session, plan_id: int, rule, *, effective_from: date, note: str | None,
                     actor) -> BenefitRule:
    """A new version of the plan's benefit rule (older versions stay for old cases). Commits.

    Raises:
        DomainError: see ``validate_benefit_rule``.
    """
    clean = validate_benefit_rule(rule)
    version = (session.scalar(select(func.max(BenefitRule.version)).where(BenefitRule.plan_id == plan_id)) or 0) + 1
    row = BenefitRule(plan_id=plan_id, version=version, rule=clean, effective_from=effective_from,
                      note=(note or "").strip()[:255] or None, created_by_id=getattr(actor, "id", None))
    session.add(row)
    session.commit()
    return row


def current_rule(session: Session, plan_id: int, on: date) -> BenefitRule | None:
    """The version in force on ``on``: the highest version effective by then."""
    return session.scalar(select(BenefitRule).where(BenefitRule.plan_id == plan_id, BenefitRule.effective_from <= on)
                          .order_by(BenefitRule.version.desc()).limit(1))


def plans_for_unit(session: Session, unit, on: date) -> list[ProtectionPlan]:
    """Plans a unit may enroll in on ``on``: enabled, on sale, offered by its office or an office above it."""
    from models.organizations import Org

    unit_path = session.scalar(select(Org.path).where(Org.id == unit.org_id)) or ""
    plans = session.scalars(select(ProtectionPlan).join(Org, Org.id == ProtectionPlan.org_id)
                            .where(ProtectionPlan.enabled.is_(True)).order_by(ProtectionPlan.code)).all()
    return [p for p in plans if unit_path.startswith(p.org.path) and (p.on_sale_from is None or p.on_sale_from <= on)
            and (p.on_sale_to is None or on <= p.on_sale_to)]


def default_base(total_cost: Decimal, *paid: Decimal) -> Decimal:
    """补助基数 by default (C1 proposal, A-2): the policy-scope self-paid part of the settlement sheet,
    total − 统筹支付 − 大病保险支付 − 其他报销 − 全自费, never below 0."""
    return money(max(Decimal(0), Decimal(total_cost) - sum((Decimal(p) for p in paid), Decimal(0))))
