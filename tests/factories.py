"""Factories that build on each other: org → unit → member → user. All go through
the services, so every row obeys the same rules as real data."""
from __future__ import annotations

import itertools
import random
from pathlib import Path

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


def make_user(session, role_label: str, org: Org | None = None, username: str | None = None, **binding):
    """An account of ``role_label``; ``binding`` sets member_id / merchant_id."""
    sm = current_app.appbuilder.sm
    username = username or f"user{next(_seq)}_{_rng.randrange(10**6)}"
    user = sm.add_user(username, username, "测试", f"{username}@test.invalid", sm.find_role(role_label),
                       password=DEMO_PASSWORD)
    user.org_id = org.id if org else None
    for attr, value in binding.items():
        setattr(user, attr, value)
    session.commit()
    return user


def make_xlsx(path, rows, *, sheet="会员信息采集表", numbers_as_numbers=False) -> str:
    """Write rows (first row = header) to an xlsx as a user's Excel would."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": numbers_as_numbers})
    ws = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    book.close()
    return str(path)


MEMBER_HEADER = ["*姓名", "证件类型", "*证件号码", "性别", "出生日期", "手机号", "是否农民工", "职务", "入会日期",
                 "所属工会", "所在单位", "会籍状态", "备注"]


def member_row(union, *, name=None, id_number=None, phone="13800138000", unit="", **over):
    row = {"name": name or chinese_name(_rng), "id_type": "居民身份证", "id_number": id_number or new_id_number(),
           "gender": "", "birth_date": "", "phone": phone, "migrant_worker": "否", "position": "职员",
           "join_date": "2020-01-02", "org": union.name, "unit": unit, "status": "在会", "remark": ""}
    row.update(over)
    return [row[k] for k in ("name", "id_type", "id_number", "gender", "birth_date", "phone", "migrant_worker",
                             "position", "join_date", "org", "unit", "status", "remark")]


def submit_member_file(session, path, username: str = "county_admin"):
    """Upload a member file as ``username`` through the service; the job is not run yet."""
    from app.services import imports
    from models.security import AppUser

    actor = session.scalar(select(AppUser).where(AppUser.username == username))
    with open(path, "rb") as fh:
        return imports.submit_import(session, actor=actor, kind_key="members", file_name=Path(path).name, stream=fh)
