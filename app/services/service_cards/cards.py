"""The card state machine (CARD_FLOW applied by the review-flow engine), the card face and the
member's own card (``GET /api/v1/me/card``)."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import fast_insert
from app.security import org_scope_clause
from app.services import review_flow
from app.services.errors import DomainError, NotFoundError
from models.base import DISPLAY_TZ, utcnow
from models.members import Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.review import ReviewTrail
from models.service_cards import ACTIVE_CARD, CARD_FLOW, CardStatus, ServiceCard

from .coverage import coverage_on


def card_scope(actor):
    return org_scope_clause(ServiceCard.org_id, actor)


def scoped_card(session: Session, card_id: int, actor) -> ServiceCard:
    card = session.scalars(select(ServiceCard).where(ServiceCard.id == card_id, card_scope(actor))).first()
    if card is None:
        raise NotFoundError("会员服务卡不存在或不在您的管辖范围内")
    return card


def district_of(org: Org) -> Org | None:
    """The district / industry union (level 2) above a base union: its name is on the card face."""
    node = org
    while node is not None and node.level != OrgLevel.COUNTY:
        node = node.parent
    return node


def new_card_rows(session: Session, pairs: list[tuple[Member, int | None]]) -> list[dict]:
    """Rows of new cards (开户中) for members; the member number is kept (never renumbered)."""
    now, rows, districts = utcnow(), [], {}
    for member, batch_id in pairs:
        if member.org_id not in districts:
            district = district_of(member.org)
            districts[member.org_id] = district.name if district else member.org.name
        if not member.member_no:
            raise DomainError(f"会员「{member.name}」没有会员编号，不能办卡")
        rows.append({"member_id": member.id, "org_id": member.org_id, "batch_id": batch_id,
                     "member_no": member.member_no, "district_name": districts[member.org_id],
                     "status": CardStatus.OPENING.value, "created_at": now})
    return rows


def create_cards(session: Session, pairs: list[tuple[Member, int | None]]) -> int:
    rows = new_card_rows(session, pairs)
    active = set(session.scalars(select(ServiceCard.member_id).where(
        ServiceCard.member_id.in_([r["member_id"] for r in rows]), ServiceCard.status.in_(ACTIVE_CARD)))) if rows else set()
    if active:
        raise DomainError(f"有 {len(active)} 名会员已持有会员服务卡（一人一卡），请从批次中移除后再办理")
    fast_insert(session, ServiceCard.__table__, rows)
    return len(rows)


def _apply(session, card_id, action, actor, reason=None, can=None) -> ServiceCard:
    return review_flow.apply_transition(session, ServiceCard, card_id, action, flow=CARD_FLOW, actor=actor,
                                        reason=reason, status_labels=CardStatus, scope_clause=card_scope(actor),
                                        can=can)


def distribute_card(session: Session, card_id: int, *, actor, can=None) -> ServiceCard:
    """发放: 已制卡 → 正常 (the card becomes valid)."""
    card = _apply(session, card_id, "distribute", actor, can=can)
    card.issued_at = utcnow()
    session.commit()
    return card


def report_loss(session: Session, card_id: int, *, actor, reason: str | None = None, can=None) -> ServiceCard:
    """挂失: 正常 → 挂失."""
    card = _apply(session, card_id, "report_loss", actor, reason=reason, can=can)
    session.commit()
    return card


def cancel_loss(session: Session, card_id: int, *, actor, can=None) -> ServiceCard:
    card = _apply(session, card_id, "cancel_loss", actor, can=can)
    session.commit()
    return card


def reissue_card(session: Session, card_id: int, *, actor, reason: str, can=None) -> ServiceCard:
    """补卡 / 换卡: the old card 已注销 and a new one 开户中 with the same member number.

    Raises:
        NotFoundError, InvalidTransitionError, ReasonRequiredError, DomainError (membership ended).
    """
    old = _apply(session, card_id, "reissue", actor, reason=reason, can=can)
    member = old.member
    if member.status != MembershipStatus.ACTIVE:
        raise DomainError(f"会员会籍状态为「{member.status_label}」，不能补卡")
    session.flush()
    # the number stays; the face shows the member's district of today (it changes only on reissue)
    district = district_of(member.org)
    new = ServiceCard(member_id=member.id, org_id=member.org_id, member_no=old.member_no,
                      district_name=district.name if district else old.district_name, status=CardStatus.OPENING,
                      replaces_id=old.id)
    session.add(new)
    session.commit()
    return new


def enter_serial(session: Session, card_id: int, *, actor, serial: str, bank_account: str | None = None,
                 can=None) -> ServiceCard:
    """The bank's card serial of a single (reissued) card: 开户中 → 已制卡."""
    serial = (serial or "").strip()
    if not serial.isalnum() or not 6 <= len(serial) <= 32:
        raise DomainError("卡号须为6至32位字母或数字", field="serial")
    if session.scalar(select(ServiceCard.id).where(ServiceCard.serial == serial)):
        raise DomainError("该卡号已被其他会员服务卡使用", field="serial")
    card = _apply(session, card_id, "made", actor, can=can)
    card.serial, card.bank_account = serial, (bank_account or "").strip() or None
    session.commit()
    return card


def cancel_card(session: Session, card_id: int, *, actor, reason: str, can=None) -> ServiceCard:
    """注销 when the membership ends (离会 / 转出); the member number is never reused."""
    card = scoped_card(session, card_id, actor)
    if card.member.status not in (MembershipStatus.LEFT, MembershipStatus.TRANSFERRED_OUT):
        raise DomainError(f"会员会籍状态为「{card.member.status_label}」，仅离会或转出的会员可注销会员服务卡")
    card = _apply(session, card_id, "cancel", actor, reason=reason, can=can)
    session.commit()
    return card


ENDED_MEMBERSHIP = (MembershipStatus.LEFT, MembershipStatus.TRANSFERRED_OUT)


def end_membership(session: Session, member_ids: list[int], *, status: str, actor, on: date | None = None) -> int:
    """The membership of ``member_ids`` ended (离会 / 转出) on ``on`` (Beijing, default today): each
    active card is 注销 through CARD_FLOW (trail: who, when, reason; audit row) and the coverage
    registrations end (:func:`coverage.terminate_coverage`). No commit: the caller's change of the
    membership status and this land in one transaction. Returns the number of cards cancelled.
    """
    from .coverage import beijing_date, terminate_coverage

    if not member_ids:
        return 0
    on = on or beijing_date()
    reason = f"会员{MembershipStatus.label_of(status)}，会员服务卡自动注销"
    card_ids = session.scalars(select(ServiceCard.id).where(ServiceCard.member_id.in_(member_ids),
                                                            ServiceCard.status.in_(ACTIVE_CARD))
                               .order_by(ServiceCard.id)).all()
    for card_id in card_ids:  # the caller checked the member is in the actor's scope
        review_flow.apply_transition(session, ServiceCard, card_id, "cancel", flow=CARD_FLOW, actor=actor,
                                     reason=reason, status_labels=CardStatus,
                                     scope_clause=ServiceCard.member_id.in_(member_ids))
    terminate_coverage(session, list(member_ids), on=on)
    return len(card_ids)


def follow_transfer(session: Session, member_id: int, to_org: Org, *, actor, reason: str) -> int:
    """转会 (A-12): the member's active card follows him to the new base union (its lists, statistics,
    registration and claims), same number and face (the face changes only on reissue); its trail says
    so (status unchanged). No commit."""
    from app.services import audit

    cards_ = session.scalars(select(ServiceCard).where(ServiceCard.member_id == member_id,
                                                       ServiceCard.status.in_(ACTIVE_CARD))).all()
    for card in cards_:
        card.org_id = to_org.id
        session.add(ReviewTrail(entity=ServiceCard.__tablename__, entity_id=card.id, action="transfer",
                                action_label="随会员转会", from_status=card.status, to_status=card.status,
                                actor_id=getattr(actor, "id", None),
                                actor_name=getattr(actor, "username", None) or audit.SYSTEM,
                                reason=f"转入{to_org.name}：{reason}"[:255]))
    return len(cards_)


# --- validity on a date -----------------------------------------------------------------
def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=DISPLAY_TZ)


def card_status_on(session: Session, card: ServiceCard, day: date) -> str | None:
    """The card's status at the end of ``day`` (Beijing), read from its trail; None before it existed."""
    end = _day_end(day)
    if card.created_at and card.created_at >= end:
        return None
    last = session.scalars(select(ReviewTrail.to_status).where(
        ReviewTrail.entity == ServiceCard.__tablename__, ReviewTrail.entity_id == card.id, ReviewTrail.at < end)
        .order_by(ReviewTrail.id.desc()).limit(1)).first()
    return last or CardStatus.OPENING.value


def valid_card_on(session: Session, member_id: int, day: date) -> ServiceCard | None:
    """持有效会员服务卡: a card of the member that was 正常 on ``day``."""
    for card in session.scalars(select(ServiceCard).where(ServiceCard.member_id == member_id)
                                .order_by(ServiceCard.id.desc())):
        if card_status_on(session, card, day) == CardStatus.NORMAL:
            return card
    return None


# --- the card face -----------------------------------------------------------------------
def barcode_svg(member_no: str) -> bytes:
    """The member number as a QR code (segno), an SVG image."""
    out = io.BytesIO()
    segno.make(member_no, error="m").save(out, kind="svg", scale=4, border=2)
    return out.getvalue()


def current_card(session: Session, member_id: int) -> ServiceCard | None:
    """The member's active card, else his latest one."""
    cards = session.scalars(select(ServiceCard).where(ServiceCard.member_id == member_id)
                            .order_by(ServiceCard.id.desc())).all()
    return next((c for c in cards if c.status in ACTIVE_CARD), cards[0] if cards else None)


def card_of_member(session: Session, member_id: int | None, card_id: int | None = None) -> ServiceCard:
    """The member's own card (``card_id`` must be his). Raises NotFoundError otherwise."""
    if member_id is None:
        raise NotFoundError("未找到会员服务卡")
    if card_id is not None:
        card = session.scalars(select(ServiceCard).where(ServiceCard.id == card_id,
                                                         ServiceCard.member_id == member_id)).first()
    else:
        card = current_card(session, member_id)
    if card is None:
        raise NotFoundError("未找到会员服务卡")
    return card


def card_payload(session: Session, card: ServiceCard, *, qr_url: str, today: date) -> dict:
    coverage = coverage_on(session, card.member_id, today)
    return {
        "id": card.id, "member_no": card.member_no, "district_union": card.district_name,
        "status": card.status, "status_label": card.status_label, "barcode_url": qr_url,
        "serial_tail": card.serial[-4:] if card.serial else None,
        "coverage": {"start": coverage.period_start.isoformat(), "end": coverage.period_end.isoformat()}
        if coverage else None,
    }


def report_own_loss(session: Session, member_id: int | None, *, actor) -> ServiceCard:
    """挂失 by the member himself (API): only his own 正常 card."""
    card = card_of_member(session, member_id)
    card = review_flow.apply_transition(session, ServiceCard, card.id, "report_loss", flow=CARD_FLOW, actor=actor,
                                        status_labels=CardStatus,
                                        scope_clause=ServiceCard.member_id == member_id)
    session.commit()
    return card
