"""Recuperation fixtures: the 2025 policy, a base in the first county with the seed's three products,
members of a base union there, and a clock inside the window (Beijing)."""
from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.base import DISPLAY_TZ
from models.recuperation import Product, RecuperationPolicy, RecupBase
from tests.factories import base_of, county, make_member

YEAR = 2025
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=DISPLAY_TZ)
_seq = itertools.count(1)


def make_policy(session, year=YEAR, **over):
    from app.services.recuperation.policy import default_policy

    policy = session.scalar(select(RecuperationPolicy).where(RecuperationPolicy.year == year))
    if policy is None:
        policy = default_policy(year)
        session.add(policy)
    for key, value in over.items():
        setattr(policy, key, value)
    session.commit()
    return policy


def make_base(session, org, name=None):
    base = RecupBase(name=name or f"测试疗休养基地{next(_seq)}", org_id=org.id, status="active")
    session.add(base)
    session.commit()
    return base


def make_product(session, base, category="lodging", price="268.00", group_price="300.00", capacity=10, name=None):
    from app.services.recuperation.catalog import validate_product

    product = Product(base=base, category=category, name=name or f"产品{next(_seq)}", price=Decimal(price),
                      group_price=Decimal(group_price), daily_capacity=capacity, status="on_sale")
    session.add(product)
    validate_product(session, product)
    session.commit()
    return product


@pytest.fixture()
def policy(ctx):
    return make_policy(ctx)


@pytest.fixture()
def home_county(ctx):
    return county(ctx, 0)


@pytest.fixture()
def union(ctx, home_county):
    return base_of(ctx, home_county, 0)


@pytest.fixture()
def base(ctx, home_county):
    return make_base(ctx, home_county)


@pytest.fixture()
def seed_products(ctx, base):
    """The requirement's day: 套餐 88.00 + 景点 120.00 + 住宿 268.00 = 476.00."""
    return {"meal": make_product(ctx, base, "meal", "88.00", "98.00", 50),
            "activity": make_product(ctx, base, "activity", "120.00", "150.00", 50),
            "lodging": make_product(ctx, base, "lodging", "268.00", "300.00", 10)}


@pytest.fixture()
def member_factory(ctx, union):
    def make(**fields):
        fields.setdefault("has_citizen_card", True)  # 市内 types need the citizen card
        return make_member(ctx, union, **fields)

    return make


def day(d: str, *products, qty=1) -> dict:
    return {"date": d, "items": [{"product_id": p.id, "quantity": qty} for p in products]}


@pytest.fixture()
def frozen_clock(monkeypatch):
    """The services' clock at NOW (1 March 2025, Beijing): inside the 2025 window."""
    from datetime import timezone

    from app.services.recuperation import declarations, policy as policy_module

    fixed = lambda: NOW.astimezone(timezone.utc)  # noqa: E731
    monkeypatch.setattr(policy_module, "utcnow", fixed)
    monkeypatch.setattr(declarations, "utcnow", fixed)
    return NOW


def member_account(session, member):
    from tests.factories import make_user

    return make_user(session, "会员", member.org, member_id=member.id)


def base_manager(session, base):
    from tests.factories import make_user

    return make_user(session, "基地管理员", None, recup_base_id=base.id)
