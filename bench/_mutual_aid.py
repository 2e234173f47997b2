"""Bench set-up for mutual aid: an office, a plan, an approved member unit and its enrollment,
made through the services (like the seed)."""
from __future__ import annotations

from decimal import Decimal

from app.validators import resident_id_check_char

PASSWORD = "Bench@2026pass"


def person_ids(n: int):
    """n unique valid resident IDs (area + birth date + sequence)."""
    from datetime import date, timedelta

    base = date(1965, 1, 1)
    for i in range(n):
        birth = base + timedelta(days=i % 12000)
        first17 = f"{310101 + i // 12_000_000}{birth:%Y%m%d}{(i // 12000) % 1000:03d}"
        yield first17 + resident_id_check_char(first17)


def enrollment_setup(app, session):
    """(enrollment, handler) of a fresh database: office, plan 30 / 50 per share, unit, 2 shares."""
    import random

    from app.services import accounts
    from app.services.mutual_aid import enrollment, registration
    from app.services.mutual_aid.plans import validate_plan
    from app.services.organizations import create_org
    from models.mutual_aid import ProtectionPlan
    from models.outbox import SmsMessage
    from models.security import AppUser
    from seed.generators import uscc

    city = create_org(session, name="基准市总工会", parent=None, code="310", commit=False)
    office = create_org(session, name="基准办事处", parent=city, code="101", commit=False)
    session.commit()
    sm = app.appbuilder.sm
    staff = sm.add_user("bench_office", "基准", "办事处", "office@bench.invalid", sm.find_role("办事处业务人员"),
                        password=PASSWORD)
    staff.org_id = office.id
    plan = ProtectionPlan(code="BENCH", name="基准住院医疗互助", kind="hospital", org_id=office.id,
                          price=Decimal("30.00"), price_high=Decimal("50.00"), max_shares=3)
    validate_plan(plan)
    session.add(plan)
    session.commit()
    fields = {"name": "基准参保单位有限公司", "uscc": uscc(random.Random(1)), "org_id": office.id,
              "contact_name": "王基准", "contact_mobile": "13900009999", "email": "bench@bench.invalid"}
    code = registration.send_registration_code(session, fields["contact_mobile"])
    from seed.loader import _demo_picture

    unit = registration.register_unit(session, fields, code=code, certificates=[("执照.png", _demo_picture((1, 2, 3)))])
    registration.review_registration(session, unit.id, "approve", actor=staff)
    handler = session.query(AppUser).filter_by(member_unit_id=unit.id).one()
    otp = session.query(SmsMessage).filter_by(related_type="member_unit").one().params["password"]
    accounts.change_password(session, handler, old_password=otp, new_password=PASSWORD, confirm=PASSWORD)
    draft = enrollment.create_enrollment(session, actor=handler, plan_shares={plan.id: 2})
    return draft, handler
