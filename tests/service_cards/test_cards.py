"""The card state machine: distribute, loss report, reissue with the same member number, cancel."""
import pytest
from sqlalchemy import select

from app.services.errors import DomainError, InvalidTransitionError, NotFoundError, ReasonRequiredError
from app.services.service_cards import cards
from models.members import MembershipStatus
from models.review import ReviewTrail
from models.service_cards import CardStatus, ServiceCard

from .conftest import user


@pytest.fixture()
def card(ctx, issued, clerk):
    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).first()
    return cards.distribute_card(ctx, made.id, actor=clerk)


def test_loss_report_and_its_cancellation(ctx, card, clerk):
    assert cards.report_loss(ctx, card.id, actor=clerk).status == CardStatus.LOST
    with pytest.raises(InvalidTransitionError):
        cards.distribute_card(ctx, card.id, actor=clerk)
    ctx.rollback()
    assert cards.cancel_loss(ctx, card.id, actor=clerk).status == CardStatus.NORMAL
    trail = ctx.scalars(select(ReviewTrail.action).where(ReviewTrail.entity == "service_card",
                                                         ReviewTrail.entity_id == card.id)).all()
    assert trail == ["made", "distribute", "report_loss", "cancel_loss"]


def test_reissue_keeps_member_number_and_needs_a_reason(ctx, card, clerk, county_admin):
    cards.report_loss(ctx, card.id, actor=clerk)
    with pytest.raises(ReasonRequiredError):
        cards.reissue_card(ctx, card.id, actor=county_admin, reason="")
    ctx.rollback()
    new = cards.reissue_card(ctx, card.id, actor=county_admin, reason="挂失补卡")
    ctx.refresh(card)
    assert card.status == CardStatus.CANCELLED
    assert (new.status, new.member_no, new.replaces_id) == (CardStatus.OPENING, card.member_no, card.id)
    with pytest.raises(DomainError, match="卡号"):
        cards.enter_serial(ctx, new.id, actor=county_admin, serial="12")
    ctx.rollback()
    made = cards.enter_serial(ctx, new.id, actor=county_admin, serial="6200009999")
    assert made.status == CardStatus.MADE
    assert card.member.member_no == new.member_no  # never renumbered


def test_cancel_only_when_membership_ended(ctx, card, clerk):
    with pytest.raises(DomainError, match="仅离会或转出"):
        cards.cancel_card(ctx, card.id, actor=clerk, reason="离会")
    ctx.rollback()
    card.member.status = MembershipStatus.LEFT
    ctx.commit()
    assert cards.cancel_card(ctx, card.id, actor=clerk, reason="离会").status == CardStatus.CANCELLED
    number = card.member_no
    assert ctx.scalar(select(ServiceCard.id).where(ServiceCard.member_no == number,
                                                   ServiceCard.status != CardStatus.CANCELLED)) is None


def test_card_outside_scope_is_not_found(ctx, card):
    with pytest.raises(NotFoundError):
        cards.report_loss(ctx, card.id, actor=user(ctx, "county2_admin"))
    ctx.rollback()


def test_member_reads_own_card_only(ctx, card):
    assert cards.card_of_member(ctx, card.member_id).id == card.id
    with pytest.raises(NotFoundError):
        cards.card_of_member(ctx, card.member_id + 99999, card.id)


def test_barcode_is_the_member_number(card):
    svg = cards.barcode_svg(card.member_no)
    assert svg.startswith(b"<?xml") or b"<svg" in svg[:200]
