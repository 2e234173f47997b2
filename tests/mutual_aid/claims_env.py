"""Shared set-up of the claims tests: an effective enrollment of three persons in a plan offering
five claim kinds under the demo rule set, the office's staff, two reviewers and finance."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from models.mutual_aid import Claim, ClaimKind, Enrollment, InsuredPerson
from models.security import AppUser
from tests.factories import approved_member_unit, county, import_persons, licence_png, make_plan, make_user, person_row

T1 = [{"upto": "10000", "rate": "0.30"}, {"upto": None, "rate": "0.40"}]
RULE = {"type": "by_kind", "kinds": {
    "disease_hospital": {"type": "progressive", "tiers": T1},
    "accident_hospital": {"type": "daily_allowance", "per_day": "50", "max_days": "180"},
    "critical_illness": {"type": "fixed_per_share", "amount": "10000"},
    "accident_disability": {"type": "fixed_per_share", "amount": "30000", "grades": {"1": "1", "3": "0.8"}},
    "accident_death": {"type": "fixed_per_share", "amount": "30000"},
}, "annual_cap": "100000"}
KINDS = ["疾病住院", "意外住院", "重大疾病", "意外伤残", "意外身故"]


def luhn_card(prefix: str = "622202123456789012") -> str:
    digits = [int(c) for c in prefix]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


CARD = luhn_card()
PAYEE = {"payee_name": "出险人", "payee_relation": "本人", "payee_account_type": "card", "payee_bank": "工商银行",
         "payee_branch": "黄浦支行", "payee_account": CARD}


@dataclass
class Env:
    ctx: object
    office: object
    staff: AppUser
    staff2: AppUser
    reviewer1: AppUser
    reviewer2: AppUser
    finance: AppUser
    unit: object
    unit_handler: AppUser
    plan: object
    enrollment: Enrollment
    people: list = field(default_factory=list)
    today: date = date.today()

    def kind(self, name: str) -> ClaimKind:
        return self.ctx.scalar(select(ClaimKind).where(ClaimKind.name == name))

    def accept(self, kind_name: str, person: int = 0, actor=None, incident=None) -> Claim:
        from app.services.mutual_aid import claims

        actor = actor or self.staff
        return claims.accept_claims(self.ctx, [(self.people[person].id, self.kind(kind_name).id)], actor,
                                    incident_date=incident or self.today - timedelta(days=10))[0]

    def upload_all(self, claim, actor=None):
        from app.services.mutual_aid import claims

        for kind in claim.claim_kind.material_types or []:
            claims.upload_material(self.ctx, claim.id, actor or self.staff, material_type=kind,
                                   file_name=f"{kind}.png", data=licence_png())
        return claim

    def fill(self, claim, actor=None, *, base="23307.60", grade=None, calculate=True):
        """Take the case, enter incident, payee and (hospital kinds) a settlement sheet, calculate."""
        from app.services.mutual_aid import claims

        actor = actor or self.staff
        if claim.status == "materials":
            self.upload_all(claim, actor)
        assert claims.take_claims(self.ctx, [claim.id], actor) == [claim.id]
        claims.save_fee_entry(self.ctx, claim.id, actor, {
            "incident_date": (self.today - timedelta(days=10)).isoformat(), "incident_type": "疾病",
            "disability_grade": grade or "", **PAYEE})
        if claim.claim_kind.needs_settlement_sheet:
            claims.add_sheet(self.ctx, claim.id, actor, {
                "hospital": "上海市第一人民医院", "admission_date": (self.today - timedelta(days=10)).isoformat(),
                "discharge_date": (self.today - timedelta(days=2)).isoformat(), "total_cost": "56308.05",
                "policy_self_paid": base})
        if calculate:
            claims.calculate_claim(self.ctx, claim.id, actor)
        return claim

    def drive(self, claim, to: str):
        """Move a case along the happy path until it is in ``to``."""
        from app.services.mutual_aid import claims, payments

        path = ["fee_entry", "first_review", "second_review", "pending_payment", "closed"]
        if to == "materials":
            return claim
        if to == "payment_failed":
            self.drive(claim, "pending_payment")
            payments.fail_one(self.ctx, "claim", claim.id, self.finance, reason="户名不符")
            return claim
        if claim.status == "materials":
            self.upload_all(claim)
        for step in path[path.index("fee_entry") + 1: path.index(to) + 1]:
            if step == "first_review":
                self.fill(claim)
                claims.submit_claim(self.ctx, claim.id, self.staff)
            elif step == "second_review":
                claims.review_claim(self.ctx, claim.id, "approve", self.reviewer1)
            elif step == "pending_payment":
                claims.review_claim(self.ctx, claim.id, "approve", self.reviewer2)
            elif step == "closed":
                payments.pay_one(self.ctx, "claim", claim.id, self.finance, paid_on=self.today, reference="BK001")
        self.ctx.refresh(claim)
        assert claim.status == to
        return claim


@pytest.fixture()
def env(ctx, tmp_path):
    from app.services.mutual_aid import claims, enrollment, invoicing
    from app.services.mutual_aid.plans import add_benefit_rule
    from models.base import DISPLAY_TZ, utcnow

    office = county(ctx, 0)
    staff = make_user(ctx, "办事处业务人员", office)
    claims.ensure_claim_kinds(ctx)
    ctx.commit()
    plan = make_plan(ctx, office, price="30.00", max_shares=3, claim_kinds=KINDS)
    add_benefit_rule(ctx, plan.id, RULE, effective_from=date(2000, 1, 1), note="演示规则", actor=staff)
    unit, handler = approved_member_unit(ctx, office, staff)
    row = enrollment.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 2})
    job = import_persons(ctx, row, row.plans[0], [person_row(group="普通") for _ in range(3)], handler, tmp_path)
    assert job.ok_rows == 3, job.message
    enrollment.set_details(ctx, row.id, actor=handler, staff_count=10, female_staff_count=5, note="")
    enrollment.submit_enrollment(ctx, row.id, actor=handler)
    enrollment.review_enrollment(ctx, row.id, "approve", actor=staff)
    invoicing.save_invoice(ctx, row.id, actor=handler, fields={
        "title": unit.name, "email": "f@unit.invalid", "persons": 3, "amount": "180.00",
        "enrollment_plan_id": row.plans[0].id})
    invoicing.submit_invoices(ctx, row.id, actor=handler)
    finance = ctx.scalar(select(AppUser).where(AppUser.username == "finance"))
    invoicing.confirm_payment(ctx, row.id, actor=finance, amount="180.00", paid_on=utcnow().date(), reference="B1")
    today = utcnow().astimezone(DISPLAY_TZ).date()
    start, end = today - timedelta(days=100), today + timedelta(days=265)
    ctx.execute(update(InsuredPerson).where(InsuredPerson.enrollment_id == row.id)
                .values(coverage_start=start, coverage_end=end))
    row.coverage_start, row.coverage_end = start, end
    ctx.commit()
    people = list(ctx.scalars(select(InsuredPerson).where(InsuredPerson.enrollment_id == row.id)
                              .order_by(InsuredPerson.id)))
    return Env(ctx=ctx, office=office, staff=staff, staff2=make_user(ctx, "办事处业务人员", office),
               reviewer1=make_user(ctx, "业务审核员", office), reviewer2=make_user(ctx, "业务审核员", office),
               finance=finance, unit=unit, unit_handler=handler, plan=plan, enrollment=row, people=people,
               today=today)


def money(value) -> Decimal:
    return Decimal(value)
