"""Benefits (S002:L65–68): the four critical illnesses with hospitalization, once; accidents 30,000 at most
per accident; valid card and coverage on the incident date; review and payment through the flow."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services.errors import DomainError, SelfApprovalError
from app.services.service_cards import benefits, cards
from app.services.service_cards.coverage import beijing_date, coverage_period
from models.service_cards import ClaimStatus, ServiceCard

from .conftest import user


@pytest.fixture()
def covered(ctx, issued, clerk):
    """A member holding a 正常 card, covered for the period of the batch's submission."""
    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).first()
    card = cards.distribute_card(ctx, made.id, actor=clerk)
    period = coverage_period(beijing_date(issued.submitted_at))
    return card, period


def _file(ctx, clerk, card, period, **over):
    values = {"member_id": card.member_id, "kind": "critical", "incident_date": period.start + timedelta(days=30),
              "disease_category": "cancer", "hospitalized": True, "today": period.end}
    values.update(over)
    return benefits.file_claim(ctx, actor=clerk, **values)


def test_critical_illness_pays_10000_once_per_category(ctx, covered, clerk):
    card, period = covered
    claim = _file(ctx, clerk, card, period)
    assert claim.amount == Decimal("10000.00") and claim.status == ClaimStatus.FILED
    with pytest.raises(DomainError, match="已申请过"):
        _file(ctx, clerk, card, period, incident_date=period.start + timedelta(days=60))
    ctx.rollback()
    assert _file(ctx, clerk, card, period, disease_category="brain").amount == Decimal("10000.00")


def test_critical_illness_refused_without_hospital_or_outside_the_four(ctx, covered, clerk):
    card, period = covered
    with pytest.raises(DomainError, match="住院"):
        _file(ctx, clerk, card, period, hospitalized=False)
    ctx.rollback()
    with pytest.raises(DomainError, match="四类"):
        _file(ctx, clerk, card, period, disease_category="diabetes")
    ctx.rollback()


def test_incident_outside_period_refused(ctx, covered, clerk):
    card, period = covered
    with pytest.raises(DomainError, match="保障期"):
        _file(ctx, clerk, card, period, incident_date=period.start - timedelta(days=1))
    ctx.rollback()
    with pytest.raises(DomainError, match="保障期"):
        _file(ctx, clerk, card, period, incident_date=period.end + timedelta(days=1), today=period.end + timedelta(days=9))
    ctx.rollback()


def test_accident_30000_at_most_per_accident(ctx, covered, clerk):
    card, period = covered
    day = period.start + timedelta(days=10)
    first = _file(ctx, clerk, card, period, kind="disability", incident_date=day)
    assert first.amount == Decimal("30000.00")
    with pytest.raises(DomainError, match="同一意外"):
        _file(ctx, clerk, card, period, kind="death", incident_date=day, beneficiary="李明")
    ctx.rollback()
    other = _file(ctx, clerk, card, period, kind="death", incident_date=day + timedelta(days=5), beneficiary="李明")
    assert other.amount == Decimal("30000.00")


def test_death_needs_beneficiary_and_established_within_180_days(ctx, covered, clerk):
    card, period = covered
    with pytest.raises(DomainError, match="受益人"):
        _file(ctx, clerk, card, period, kind="death")
    ctx.rollback()
    start = period.start + timedelta(days=1)
    with pytest.raises(DomainError, match="180"):
        _file(ctx, clerk, card, period, kind="disability", incident_date=start,
              established_on=start + timedelta(days=181))
    ctx.rollback()


def test_card_not_normal_on_incident_date_refused(ctx, covered, clerk):
    card, period = covered
    cards.report_loss(ctx, card.id, actor=clerk)  # lost from today on: every later date is not covered
    with pytest.raises(DomainError, match="有效"):
        _file(ctx, clerk, card, period)
    ctx.rollback()


def test_member_of_other_union_refused_and_review_pays(ctx, covered, clerk):
    from app.services.errors import NotFoundError

    card, period = covered
    with pytest.raises(NotFoundError):
        _file(ctx, user(ctx, "county2_admin"), card, period)
    ctx.rollback()
    claim = _file(ctx, clerk, card, period)
    with pytest.raises(SelfApprovalError):
        benefits.review_claim(ctx, claim.id, "approve", actor=clerk)
    ctx.rollback()
    city = user(ctx, "city_admin")
    benefits.review_claim(ctx, claim.id, "approve", actor=city)
    paid = benefits.review_claim(ctx, claim.id, "pay", actor=city)
    assert paid.status == ClaimStatus.PAID and paid.paid_at
