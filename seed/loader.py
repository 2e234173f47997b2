"""The demo instance: an org tree, units, members and one account per role.

Idempotent: nothing happens when an org already exists. Calls the services,
so the demo obeys the same rules as real data.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from app.services import audit, members, organizations, review_flow
from models.base import DISPLAY_TZ
from models.members import CERT_FLOW, CertStatus, IdType, Member, MembershipStatus
from models.organizations import Org, Unit, UnitNature
from seed.generators import chinese_name, mobile, resident_id, uscc

DEMO_PASSWORD = "Union@2026demo"
COUNTIES = [("101", "黄浦区总工会", "310101"), ("104", "徐汇区总工会", "310104"), ("105", "长宁区总工会", "310105")]
BASES_PER_COUNTY = 4
UNITS = 40

# username, role label, bound to: "city" | "county" | "base" | "member" | None
DEMO_ACCOUNTS = [
    ("sysadmin", "系统管理员", None),
    ("auditadmin", "审计管理员", None),
    ("city_admin", "市总工会管理员", "city"),
    ("county_admin", "区县工会管理员", "county"),
    ("county2_admin", "区县工会管理员", "county2"),
    ("base_admin", "基层工会管理员", "base"),
    ("reviewer", "业务审核员", "county"),
    ("finance", "财务", "county"),
    ("merchant", "商家管理员", None),
    ("base_manager", "基地管理员", None),
    ("auditor", "审计员", "county"),
    ("member", "会员", "member"),
    ("office", "办事处业务人员", "county"),
    ("worker", "会员", None),  # the worker client (S001): bound to an insured person in _seed_worker
]


def seed_demo(session, *, members: int = 2000, seed: int = 20261122) -> str:
    """Load the demo data once; returns a one-line summary."""
    if session.scalar(select(func.count(Org.id))):
        return "demo data already present: skipped"
    rng = random.Random(seed)
    count = members
    with audit.suspended():
        orgs = _seed_orgs(session, rng)
        units = _seed_units(session, rng, orgs["bases"])
        _seed_members(session, rng, orgs["bases"], units, count)
        _seed_accounts(session, orgs)
        _seed_welfare(session, orgs)
        _seed_mutual_aid(session, orgs, rng)
        _seed_recuperation(session, orgs)
    audit.record(session, "action", summary=f"载入演示数据：{count} 名会员")
    session.commit()
    return f"seeded orgs={1 + len(orgs['counties']) + len(orgs['bases'])} units={len(units)} members={count}"


def _seed_orgs(session, rng):
    city = organizations.create_org(session, name="上海市总工会", parent=None, code="310", commit=False,
                                    uscc=uscc(rng), chairman="周建华", phone="02163210000", address="上海市西藏中路")
    counties, bases = [], []
    for code, name, area in COUNTIES:
        county = organizations.create_org(session, name=name, parent=city, code=code, commit=False,
                                          uscc=uscc(rng, area), chairman=chinese_name(rng))
        counties.append(county)
        for i, kind in enumerate(["机关", "第一医院", "科技园区", "商贸集团"][:BASES_PER_COUNTY], 1):
            bases.append(organizations.create_org(
                session, name=f"{name[:-3]}{kind}工会", parent=county, code=f"{code}{i:02d}", commit=False,
                uscc=uscc(rng, area), chairman=chinese_name(rng), phone=mobile(rng)))
    session.flush()
    return {"city": city, "counties": counties, "bases": bases}


def _seed_units(session, rng, bases):
    natures = list(UnitNature)
    units = []
    for i in range(UNITS):
        base = bases[i % len(bases)]
        unit = Unit(org_id=base.id, name=f"{base.name[:-2]}第{i // len(bases) + 1}单位",
                    uscc=uscc(rng), leader=chinese_name(rng), phone=mobile(rng), nature=rng.choice(natures),
                    industry=rng.choice(["制造业", "信息技术", "医疗卫生", "批发零售", "公共管理"]),
                    wage_negotiation=rng.random() < 0.6, employee_count=rng.randrange(50, 800),
                    address=f"上海市某路{rng.randrange(1, 999)}号")
        unit.migrant_count = rng.randrange(0, unit.employee_count // 2)
        organizations.prepare_unit(session, unit)
        session.add(unit)
        units.append(unit)
    session.flush()
    return units


def _seed_members(session, rng, bases, units, count):
    by_org = {}
    for u in units:
        by_org.setdefault(u.org_id, []).append(u)
    seen = set()
    for i in range(count):
        base = bases[i % len(bases)]
        number = resident_id(rng)
        while number in seen:
            number = resident_id(rng)
        seen.add(number)
        member = members.create_member(
            session, commit=False, name=chinese_name(rng), id_type=IdType.RESIDENT, id_number=number,
            phone=mobile(rng), org_id=base.id, unit_id=rng.choice(by_org[base.id]).id,
            migrant_worker=rng.random() < 0.2, position=rng.choice(["职员", "工程师", "护士", "教师", "技术员"]),
            join_date=date(2015, 1, 1) + timedelta(days=rng.randrange(3000)),
            status=MembershipStatus.ACTIVE if rng.random() < 0.95 else MembershipStatus.RETIRED,
        )
        if i % 10 == 0:  # every tenth member has submitted the real-name certification
            review_flow.apply_transition(session, Member, member.id, "submit", flow=CERT_FLOW, actor=None,
                                         status_attr="cert_status", status_labels=CertStatus)
        if i % 500 == 0:
            session.flush()


def _seed_accounts(session, orgs):
    from flask import current_app

    sm = current_app.appbuilder.sm
    binding = {"city": orgs["city"], "county": orgs["counties"][0], "county2": orgs["counties"][1],
               "base": orgs["bases"][0]}
    first_member = session.scalar(select(Member).where(Member.org_id == orgs["bases"][0].id,
                                                       Member.status == MembershipStatus.ACTIVE).order_by(Member.id))
    for username, role_label, bound in DEMO_ACCOUNTS:
        if sm.find_user(username=username):
            continue
        role = sm.find_role(role_label)
        user = sm.add_user(username, username, "演示", f"{username}@demo.invalid", role, password=DEMO_PASSWORD)
        if bound == "member":
            user.member_id, user.org_id = first_member.id, first_member.org_id
        elif bound:
            user.org_id = binding[bound].id
    session.commit()



def _demo_picture(color, size=(240, 240)) -> bytes:
    """A plain coloured PNG standing in for a logo or cover."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _seed_welfare(session, orgs):
    """One merchant with a coupon and an online partner merchant, an approved and opened claim
    activity, one draft; the demo member certified (only 已认证 members in 在会 status claim)."""
    from datetime import timedelta

    from app.images import store_image
    from app.services import vouchers
    from models.base import utcnow
    from models.security import AppUser
    from models.vouchers import Activity, Coupon, Merchant

    union = orgs["bases"][0]
    merchant = Merchant(org_id=union.id, name="黄浦职工超市", contact="李经理", mobile="13912340000",
                        service_type="超市", address="上海市黄浦区某路1号", online=True,
                        logo_image=store_image(_demo_picture((192, 32, 45))))
    partner = Merchant(org_id=orgs["bases"][1].id, name="黄浦职工之家便利店", contact="王店长", mobile="13912340001",
                       service_type="便利店", address="上海市黄浦区某路8号", online=True)
    session.add_all([merchant, partner])
    session.flush()
    today = utcnow().astimezone(DISPLAY_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="满100减20", name="职工专享代金券",
                    quantity=500, valid_from=today, valid_to=today + timedelta(days=60, hours=23, minutes=59),
                    face_value=vouchers.money("20"), usage_condition="单笔满100元可用", enabled=True)
    session.add(coupon)
    start = utcnow() + timedelta(hours=1)
    approved = Activity(org_id=union.id, title="新春职工领券", start_at=start, end_at=start + timedelta(days=30),
                        content="每位会员限领一张", cover_image=store_image(_demo_picture((230, 120, 30), (640, 320))))
    draft = Activity(org_id=union.id, title="夏季清凉领券（草稿）", start_at=start + timedelta(days=90),
                     end_at=start + timedelta(days=120))
    session.add_all([approved, draft])
    session.commit()
    vouchers.add_prize(session, approved.id, coupon.id, 200)
    submitter = session.query(AppUser).filter_by(username="base_admin").one()
    reviewer = session.query(AppUser).filter_by(username="county_admin").one()
    vouchers.review_activity(session, approved.id, "submit", actor=submitter)
    vouchers.review_activity(session, approved.id, "approve", actor=reviewer)
    vouchers.generate_vouchers(session, approved.id)
    vouchers.operate_activity(session, approved.id, "open", actor=submitter)
    manager = session.query(AppUser).filter_by(username="merchant").one()
    manager.merchant_id = merchant.id
    session.commit()
    _certify_demo_member(session, submitter)


def _certify_demo_member(session, base_admin):
    """The demo member's certification passes the base union's review, as seed 003 step 1 has it."""
    from app.services import members as member_service
    from models.security import AppUser

    member = session.get(Member, session.query(AppUser).filter_by(username="member").one().member_id)
    if member.cert_status == CertStatus.UNVERIFIED:
        review_flow.apply_transition(session, Member, member.id, "submit", flow=CERT_FLOW, actor=None,
                                     status_attr="cert_status", status_labels=CertStatus)
    if member.cert_status == CertStatus.PENDING:
        member_service.review_certification(session, member.id, "approve", actor=base_admin)


def _seed_recuperation(session, orgs):
    """疗休养: this year's policy (window from 10 January), a base in the first county with the seed's three
    products (套餐 88 / 景点 120 / 住宿 268), the demo 基地管理员 bound to it."""
    from decimal import Decimal

    from app.services.recuperation.catalog import validate_product
    from app.services.recuperation.policy import beijing_today, default_policy
    from models.recuperation import Product, RecupBase
    from models.security import AppUser

    from sqlalchemy import update

    from models.members import Member

    session.add(default_policy(beijing_today().year))
    session.execute(update(Member).values(has_citizen_card=True))  # demo members hold a 市民卡 (市内 types)
    base = RecupBase(name="会稽山疗休养基地", org_id=orgs["counties"][0].id, address="会稽山景区", contact="王经理",
                     phone="13905750000", status="active")
    session.add(base)
    session.flush()
    for category, name, price, group_price, capacity in (
            ("meal", "农家套餐", "88.00", "98.00", 60), ("activity", "景区门票", "120.00", "150.00", 200),
            ("lodging", "民宿标间", "268.00", "300.00", 20)):
        product = Product(base=base, category=category, name=name, price=Decimal(price),
                          group_price=Decimal(group_price), daily_capacity=capacity, status="on_sale")
        session.add(product)
        validate_product(session, product)
    manager = session.scalar(select(AppUser).where(AppUser.username == "base_manager"))
    if manager is not None:
        manager.recup_base_id = base.id
    session.flush()


def _seed_mutual_aid(session, orgs, rng):
    """互助保障 through the services: two plans, an approved member unit (handler ``liuhuzhu``, the demo
    password) with an effective enrollment (letter v1) and a draft, and a registration in the pool."""
    from decimal import Decimal

    from app.services import accounts
    from app.services.mutual_aid import enrollment, invoicing, registration
    from app.services.mutual_aid.plans import add_benefit_rule, validate_plan
    from models.base import utcnow
    from models.mutual_aid import ProtectionPlan
    from models.outbox import SmsMessage
    from models.security import AppUser

    office = orgs["counties"][0]
    staff = session.query(AppUser).filter_by(username="office").one()
    finance = session.query(AppUser).filter_by(username="finance").one()
    hospital = ProtectionPlan(code="ZYYL2026", name="职工住院医疗互助保障", kind="hospital", org_id=office.id,
                              price=Decimal("30.00"), price_high=Decimal("50.00"), max_shares=3, coverage_months=12,
                              description="住院医疗费用按累进制给付（演示分段：1万元以内30%，以上40%）")
    female = ProtectionPlan(code="NZG2026", name="女职工安康互助保障", kind="female", org_id=office.id,
                            price=Decimal("20.00"), max_shares=2, eligible_gender="female", coverage_months=12)
    for plan in (hospital, female):
        validate_plan(plan)
        session.add(plan)
    session.commit()
    add_benefit_rule(session, hospital.id, {"type": "progressive", "tiers": [{"upto": "10000", "rate": "0.30"},
                                                                               {"upto": None, "rate": "0.40"}]},
                     effective_from=utcnow().date(), note="演示分段（待客户确认）", actor=staff)

    def register(name, contact, mobile, code_uscc):
        fields = {"name": name, "uscc": code_uscc, "nature": "enterprise", "address": "上海市黄浦区中山南路1号",
                  "org_id": office.id, "contact_name": contact, "contact_mobile": mobile, "email": "hr@demo.invalid"}
        code = registration.send_registration_code(session, mobile)
        return registration.register_unit(session, fields, code=code,
                                          certificates=[("营业执照.png", _demo_picture((40, 90, 160), (320, 220)))])

    unit = register("上海黄浦互助示范科技有限公司", "刘互助", "13800001001", uscc(rng))
    registration.review_registration(session, unit.id, "approve", actor=staff)
    handler = session.query(AppUser).filter_by(member_unit_id=unit.id).one()
    otp = session.query(SmsMessage).filter_by(related_type="member_unit", related_id=unit.id).one().params["password"]
    accounts.change_password(session, handler, old_password=otp, new_password=DEMO_PASSWORD, confirm=DEMO_PASSWORD)
    register("上海外滩物流有限公司", "赵待审", "13800001002", uscc(rng))

    effective = enrollment.create_enrollment(session, actor=handler, plan_shares={hospital.id: 2})
    _seed_persons(session, effective, effective.plans[0], rng, normal=16, high=4)
    enrollment.set_details(session, effective.id, actor=handler, staff_count=40, female_staff_count=15,
                           note="2026年度参保")
    enrollment.submit_enrollment(session, effective.id, actor=handler)
    enrollment.review_enrollment(session, effective.id, "approve", actor=staff)
    invoicing.save_invoice(session, effective.id, actor=handler, fields={
        "title": unit.name, "email": unit.email, "persons": 20, "amount": effective.payable,
        "enrollment_plan_id": effective.plans[0].id, "tax_number": unit.uscc})
    invoicing.submit_invoices(session, effective.id, actor=handler)
    invoicing.confirm_payment(session, effective.id, actor=finance, amount=effective.payable,
                              paid_on=utcnow().date(), reference="DEMO-BANK-0001")
    _seed_worker(session, effective)
    draft = enrollment.create_enrollment(session, actor=handler, plan_shares={female.id: 1})
    _seed_persons(session, draft, draft.plans[0], rng, normal=5, high=0, female=True)
    from app.services.mutual_aid.claims import ensure_claim_kinds

    ensure_claim_kinds(session)  # 申领类型 (疾病住院 … 女职工特疾): the plans offer those of their plan kind
    session.commit()


def _seed_worker(session, effective):
    """The demo worker ``worker`` bound (SMS code and all, as the client does) to the first insured
    person of the effective enrollment, so the worker API answers with a 参保记录 at once."""
    from app.services.mutual_aid import workers
    from models.mutual_aid import InsuredPerson
    from models.security import AppUser

    user = session.query(AppUser).filter_by(username="worker").one()
    person = session.scalars(select(InsuredPerson).where(InsuredPerson.enrollment_id == effective.id)
                             .order_by(InsuredPerson.id)).first()
    code = workers.send_bind_code(session, person.mobile)
    workers.bind_worker(session, user, name=person.name, id_type="resident", id_number=person.id_number,
                        phone=person.mobile, code=code)


def _seed_persons(session, enrollment_row, line, rng, *, normal, high, female=False):
    """A person list through the import kind's parser and writer (the engine's own path, no file)."""
    from app.services.mutual_aid import persons

    class _Job:
        params = {"enrollment_id": enrollment_row.id, "line_id": line.id}

    ctx = persons.make_context(session, _Job(), None)
    rows = []
    for i in range(normal + high):
        cells = {"name": chinese_name(rng), "id_number": resident_id(rng, male=False if female else None),
                 "mobile": mobile(rng), "risk_group": "高危" if i >= normal else "普通", "_row_no": i + 2}
        record, errors = persons.parse_row(cells, ctx)
        assert not errors, errors
        rows.append((i + 2, record))
    persons.write_batch(session, rows, ctx, None)
    session.commit()
