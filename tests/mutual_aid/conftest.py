"""Mutual-aid fixtures: the office (黄浦区), its staff, finance, a plan, an approved unit and its handler."""
import pytest
from sqlalchemy import select

from models.security import AppUser
from tests.factories import approved_member_unit, county, make_plan, make_user


@pytest.fixture()
def office(ctx):
    return county(ctx, 0)


@pytest.fixture()
def office_staff(ctx, office):
    return make_user(ctx, "办事处业务人员", office)


@pytest.fixture()
def finance(ctx):
    return ctx.scalar(select(AppUser).where(AppUser.username == "finance"))


@pytest.fixture()
def plan(ctx, office):
    """住院医疗: 30.00 per share, high-risk 50.00 (the requirements' C2 example)."""
    return make_plan(ctx, office, price="30.00", price_high="50.00", max_shares=3)


@pytest.fixture()
def unit_and_handler(ctx, office, office_staff):
    return approved_member_unit(ctx, office, office_staff)


def persons(n_normal: int, n_high: int = 0, **over) -> list:
    from tests.factories import person_row

    return ([person_row(group="普通", **over) for _ in range(n_normal)]
            + [person_row(group="高危", **over) for _ in range(n_high)])


@pytest.fixture()
def draft(ctx, plan, unit_and_handler, tmp_path):
    """An enrollment of the C2 example: 2 shares, 80 normal + 20 high-risk persons, 150 staff."""
    from app.services.mutual_aid import enrollment as svc
    from tests.factories import import_persons

    unit, handler = unit_and_handler
    enrollment = svc.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 2})
    job = import_persons(ctx, enrollment, enrollment.plans[0], persons(80, 20), handler, tmp_path)
    assert job.ok_rows == 100, job.message
    svc.set_details(ctx, enrollment.id, actor=handler, staff_count=150, female_staff_count=60, note="2025年度参保")
    return enrollment


@pytest.fixture()
def invoicing(ctx, draft, unit_and_handler, office_staff):
    from app.services.mutual_aid import enrollment as svc

    svc.submit_enrollment(ctx, draft.id, actor=unit_and_handler[1])
    svc.review_enrollment(ctx, draft.id, "approve", actor=office_staff)
    return draft


def one_invoice(ctx, enrollment, handler, persons_, amount, **over):
    from app.services.mutual_aid import invoicing as svc

    fields = {"title": enrollment.member_unit.name, "email": "finance@unit.invalid", "persons": persons_,
              "amount": amount, "enrollment_plan_id": enrollment.plans[0].id, **over}
    return svc.save_invoice(ctx, enrollment.id, actor=handler, fields=fields)


@pytest.fixture()
def effective(ctx, invoicing, unit_and_handler, finance):
    from app.services.mutual_aid import invoicing as svc
    from models.base import utcnow

    one_invoice(ctx, invoicing, unit_and_handler[1], 100, "6800.00")
    svc.submit_invoices(ctx, invoicing.id, actor=unit_and_handler[1])
    svc.confirm_payment(ctx, invoicing.id, actor=finance, amount="6800.00", paid_on=utcnow().date(),
                        reference="BANK20250125001")
    return invoicing
