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


# --- mutual aid (互助保障): built through the services like everything above ----------------
PERSON_HEADER = ["序号", "*姓名", "证件类型", "*证件号码", "*手机号", "人群类别", "性别", "出生日期", "社保类型",
                 "社保卡号", "备注"]


def make_plan(session, org: Org, **fields):
    from decimal import Decimal

    from app.services.mutual_aid.plans import validate_plan
    from models.mutual_aid import ProtectionPlan

    n = next(_seq)
    price_high = fields.pop("price_high", None)
    plan = ProtectionPlan(code=fields.pop("code", f"P{n:04d}"), name=fields.pop("name", f"住院医疗互助{n}"),
                          org_id=org.id, price=Decimal(str(fields.pop("price", "30.00"))),
                          price_high=None if price_high is None else Decimal(str(price_high)),
                          max_shares=fields.pop("max_shares", 3), **fields)
    validate_plan(plan)
    session.add(plan)
    session.commit()
    return plan


def unit_fields(office: Org, **over) -> dict:
    fields = {"name": f"互助测试单位{next(_seq)}有限公司", "uscc": uscc(_rng), "nature": "enterprise",
              "address": "上海市黄浦区某路1号", "org_id": office.id, "contact_name": "张三",
              "contact_mobile": f"137{_rng.randrange(10**8):08d}", "email": "hr@unit.invalid"}
    fields.update(over)
    return fields


def licence_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def register_member_unit(session, office: Org, **over):
    from app.services.mutual_aid import registration

    fields = unit_fields(office, **over)
    code = registration.send_registration_code(session, fields["contact_mobile"])
    return registration.register_unit(session, fields, code=code, certificates=[("营业执照.png", licence_png())])


def approved_member_unit(session, office: Org, reviewer, **over):
    """A unit approved by ``reviewer``; its handler's one-time password already changed to DEMO_PASSWORD."""
    from app.services import accounts
    from app.services.mutual_aid import registration
    from models.outbox import SmsMessage
    from models.security import AppUser

    unit = register_member_unit(session, office, **over)
    registration.review_registration(session, unit.id, "approve", actor=reviewer)
    handler = session.scalar(select(AppUser).where(AppUser.member_unit_id == unit.id))
    sms = session.scalars(select(SmsMessage).where(SmsMessage.related_type == "member_unit",
                                                   SmsMessage.related_id == unit.id)
                          .order_by(SmsMessage.id.desc())).first()
    accounts.change_password(session, handler, old_password=sms.params["password"], new_password=DEMO_PASSWORD,
                             confirm=DEMO_PASSWORD)
    return unit, handler


def person_row(*, name=None, id_number=None, mobile="13900001111", group="", **over) -> list:
    row = {"seq": "", "name": name or chinese_name(_rng), "id_type": "居民身份证",
           "id_number": id_number or new_id_number(), "mobile": mobile, "group": group, "gender": "", "birth": "", "si_type": "", "si_no": "", "remark": ""}
    row.update(over)
    return [row[k] for k in ("seq", "name", "id_type", "id_number", "mobile", "group", "gender", "birth", "si_type",
                             "si_no", "remark")]


def import_persons(session, enrollment, line, rows, handler, tmp_path):
    """Upload a person list for one plan line and run the job (as the worker would)."""
    from app.services import imports
    from app.services.mutual_aid import persons

    path = make_xlsx(tmp_path / f"persons{next(_seq)}.xlsx", [PERSON_HEADER, *rows], sheet="参保人员清单")
    with open(path, "rb") as fh:
        job = persons.submit_person_list(session, enrollment.id, line.id, actor=handler, file_name="人员清单.xlsx",
                                         stream=fh)
    return imports.run_import(session, job.id)


def age_codes(session, phone: str, minutes: int = 2) -> None:
    """Pretend the phone's codes were sent ``minutes`` ago (the one-a-minute limit)."""
    from datetime import timedelta

    from models.verification import VerificationCode

    for row in session.scalars(select(VerificationCode).where(VerificationCode.phone == phone)):
        row.created_at -= timedelta(minutes=minutes)
    session.commit()
