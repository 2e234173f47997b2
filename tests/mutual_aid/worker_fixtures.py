"""Worker-client fixtures (seed 001): an effective 住院医疗 enrollment of three persons with the demo
progressive tiers, a worker bound to one of them, reviewers, finance; helpers that walk the steps."""
from __future__ import annotations

import io
import random
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.services.mutual_aid import enrollment as enrollment_svc
from app.services.mutual_aid import invoicing, subsidies, workers
from app.services.mutual_aid.plans import add_benefit_rule
from app.services.mutual_aid.subsidies import today as beijing_today
from models.base import utcnow
from models.mutual_aid import InsuredPerson
from models.security import AppUser
from tests.factories import import_persons, make_user, person_row

DEMO_TIERS = [{"upto": "10000", "rate": "0.30"}, {"upto": None, "rate": "0.40"}]  # the demo schedule
CARD = "6222020200112283235"  # Luhn-valid, tail 3235 (S001:L83)
_rng = random.Random(11)


def unique_phone() -> str:
    return f"15{_rng.randrange(10**9):09d}"


def png(color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture()
def covered(ctx, plan, unit_and_handler, office_staff, finance, tmp_path):
    """An effective enrollment of ``plan`` (1 share, 3 persons with their own mobiles), coverage from
    60 days ago; the plan's benefit rule is the demo progressive schedule."""
    add_benefit_rule(ctx, plan.id, {"type": "progressive", "tiers": DEMO_TIERS}, effective_from=date(2000, 1, 1),
                     note="演示分段", actor=office_staff)
    unit, handler = unit_and_handler
    enrollment = enrollment_svc.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 1})
    rows = [person_row(mobile=unique_phone(), group="普通") for _ in range(3)]
    job = import_persons(ctx, enrollment, enrollment.plans[0], rows, handler, tmp_path)
    assert job.ok_rows == 3, job.message
    enrollment_svc.set_details(ctx, enrollment.id, actor=handler, staff_count=10, female_staff_count=5, note="职工互助")
    enrollment_svc.submit_enrollment(ctx, enrollment.id, actor=handler)
    enrollment_svc.review_enrollment(ctx, enrollment.id, "approve", actor=office_staff)
    invoicing.save_invoice(ctx, enrollment.id, actor=handler, fields={
        "title": unit.name, "email": "hr@unit.invalid", "persons": 3, "amount": "90.00",
        "enrollment_plan_id": enrollment.plans[0].id})
    invoicing.submit_invoices(ctx, enrollment.id, actor=handler)
    invoicing.confirm_payment(ctx, enrollment.id, actor=finance, amount="90.00", paid_on=utcnow().date(),
                              reference="BANK-W-1")
    people = ctx.scalars(select(InsuredPerson).where(InsuredPerson.enrollment_id == enrollment.id)
                         .order_by(InsuredPerson.id)).all()
    for person in people:
        person.coverage_start = beijing_today() - timedelta(days=60)
        person.coverage_end = beijing_today() + timedelta(days=300)
    ctx.commit()
    return people


def bind(ctx, person, user=None):
    user = user or make_user(ctx, "会员")
    code = workers.send_bind_code(ctx, person.mobile)
    workers.bind_worker(ctx, user, name=person.name, id_type="resident", id_number=person.id_number,
                        phone=person.mobile, code=code)
    return user


@pytest.fixture()
def worker(ctx, covered):
    return bind(ctx, covered[0])


@pytest.fixture()
def other_worker(ctx, covered):
    return bind(ctx, covered[1])


@pytest.fixture()
def reviewer(ctx):
    return ctx.scalar(select(AppUser).where(AppUser.username == "reviewer"))


@pytest.fixture()
def reviewer2(ctx, office):
    return make_user(ctx, "业务审核员", office)


STAY = {"admission": beijing_today() - timedelta(days=10), "discharge": beijing_today() - timedelta(days=7),
        "hospital": "广西壮族自治区人民医院"}


def filled(ctx, user, **stay) -> str:
    """A 草稿 with the three steps done; returns its number."""
    application = subsidies.create_application(ctx, user)
    subsidies.save_id_photos(ctx, user, application.number, front=("front.png", png()), back=("back.png", png()))
    subsidies.save_stay(ctx, user, application.number, **{**STAY, **stay}, receipts=[("发票.png", png())])
    subsidies.save_account(ctx, user, application.number, {"payee_bank": "中国工商银行南宁分行",
                                                           "payee_account": CARD})
    return application.number


def at_status(ctx, user, status: str, reviewer, reviewer2, finance):
    """An application walked to ``status`` (draft, pending_first, pending_second, approved, pay_failed, done)."""
    number = filled(ctx, user)
    app_ = subsidies.own_application(ctx, user, number)
    if status == "draft":
        return app_
    subsidies.submit_application(ctx, user, number)
    if status == "pending_first":
        return app_
    subsidies.review_application(ctx, app_.id, "approve_first", actor=reviewer, total_cost="56308.05",
                                 base="23307.60")
    if status == "pending_second":
        return app_
    subsidies.review_application(ctx, app_.id, "approve_second", actor=reviewer2)
    if status == "approved":
        return app_
    if status == "pay_failed":
        subsidies.review_application(ctx, app_.id, "pay_fail", actor=finance, reason="账户已销户")
        return app_
    assert status == "done", status
    subsidies.review_application(ctx, app_.id, "pay", actor=finance)
    return app_
