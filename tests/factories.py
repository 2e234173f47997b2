"""Factories that build on each other: org → unit → member → user. All go through
the services, so every row obeys the same rules as real data."""
from __future__ import annotations

import itertools
import random

from flask import current_app
from sqlalchemy import select

from app.services import members, organizations
from models.organizations import Org, OrgLevel, Unit
from seed.generators import chinese_name, mobile, resident_id, uscc
from seed.loader import DEMO_PASSWORD

_rng = random.Random(7)
_seq = itertools.count(1)


def demo_org(session, name: str) -> Org:
    return session.scalar(select(Org).where(Org.name == name))


def county(session, index: int = 0) -> Org:
    return session.scalars(select(Org).where(Org.level == OrgLevel.COUNTY).order_by(Org.id)).all()[index]


def base_of(session, county_org: Org, index: int = 0) -> Org:
    return session.scalars(select(Org).where(Org.parent_id == county_org.id).order_by(Org.id)).all()[index]


def make_unit(session, org: Org, **fields) -> Unit:
    unit = Unit(org_id=org.id, name=fields.pop("name", f"测试单位{next(_seq)}"), uscc=uscc(_rng), **fields)
    organizations.prepare_unit(session, unit)
    session.add(unit)
    session.commit()
    return unit


def new_id_number(**kwargs) -> str:
    return resident_id(_rng, **kwargs)


def make_member(session, org: Org, unit: Unit | None = None, **fields):
    fields.setdefault("name", chinese_name(_rng))
    fields.setdefault("id_number", new_id_number())
    fields.setdefault("phone", mobile(_rng))
    return members.create_member(session, org_id=org.id, unit_id=unit.id if unit else None, **fields)


def make_user(session, role_label: str, org: Org | None = None, username: str | None = None):
    sm = current_app.appbuilder.sm
    username = username or f"user{next(_seq)}_{_rng.randrange(10**6)}"
    user = sm.add_user(username, username, "测试", f"{username}@test.invalid", sm.find_role(role_label),
                       password=DEMO_PASSWORD)
    user.org_id = org.id if org else None
    session.commit()
    return user
