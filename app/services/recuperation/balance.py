"""余额查询: the year's entitlement minus the actual consumption (never the plan, S000:L45)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import DISPLAY_TZ
from models.recuperation import Consumption

from . import policy as policies


@dataclass
class Balance:
    entitlement: Decimal
    consumed: Decimal
    balance: Decimal


def balance_of(session: Session, member_id: int, year: int) -> Balance:
    """Entitlement − Σ consumption in the Beijing calendar year (e.g. 400.00 − 356.00 = 44.00)."""
    policy = policies.get_policy(session, year)
    start = datetime.combine(datetime(year, 1, 1).date(), time(), DISPLAY_TZ)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(), DISPLAY_TZ)
    consumed = session.scalar(select(func.coalesce(func.sum(Consumption.amount), 0)).where(
        Consumption.member_id == member_id, Consumption.at >= start, Consumption.at < end))
    consumed = Decimal(consumed).quantize(Decimal("0.01"), ROUND_HALF_UP)
    entitlement = Decimal(policy.entitlement).quantize(Decimal("0.01"))
    return Balance(entitlement, consumed, entitlement - consumed)
