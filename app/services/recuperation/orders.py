"""The base's side of its orders: 基地取消预约 (a room closed, an activity off) with a reason.

The booking leaves the member's plan too (its item is removed and the total recomputed), so a later
modification of the plan does not release the same quantity a second time; the counter is released
once, here. The member gets a 站内信 and an SMS to choose again.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import base_scope_clause
from app.services import review_flow
from app.services.errors import DomainError, NotFoundError
from models.base import utcnow
from models.recuperation import (
    RESERVATION_FLOW,
    Declaration,
    DeclarationDay,
    DeclarationItem,
    Product,
    Reservation,
    ReservationStatus,
)

from . import notifications, reservations
from . import policy as policies
from .declarations import plan_total


def cancel_by_base(session: Session, reservation_id: int, *, actor, reason: str) -> Reservation:
    """基地取消预约: 已预约 → 已取消 with a reason, by the manager of the order's base. Commits.

    Raises:
        NotFoundError (another base's order), InvalidTransitionError, ReasonRequiredError.
    """
    try:
        found = session.scalar(select(Reservation).where(Reservation.id == reservation_id,
                                                         base_scope_clause(Reservation.base_id, actor)))
        if found is None:
            raise NotFoundError("记录不存在或不在您的管辖范围内")
        # the plan first, as a member's modification does: the two never wait on each other in a cycle
        declaration = session.scalar(select(Declaration).where(Declaration.id == found.declaration_id)
                                     .with_for_update())
        booking = review_flow.apply_transition(session, Reservation, reservation_id, "base_cancel",
                                               flow=RESERVATION_FLOW, actor=actor, reason=reason,
                                               scope_clause=base_scope_clause(Reservation.base_id, actor),
                                               status_labels=ReservationStatus)
        booking.cancelled_at = utcnow()
        product = session.get(Product, booking.product_id)
        item = session.scalar(select(DeclarationItem).join(DeclarationDay, DeclarationDay.id == DeclarationItem.day_id)
                              .where(DeclarationDay.declaration_id == declaration.id,
                                     DeclarationDay.day == booking.day,
                                     DeclarationItem.product_id == booking.product_id))
        if item is not None:
            session.delete(item)
            session.flush()
            session.expire(declaration, ["days"])
            lines = session.execute(select(DeclarationItem.quantity, DeclarationItem.price)
                                    .join(DeclarationDay, DeclarationDay.id == DeclarationItem.day_id)
                                    .where(DeclarationDay.declaration_id == declaration.id)).all()
            declaration.planned_total = plan_total(lines)
            declaration.over_budget = declaration.planned_total > policies.get_policy(session, declaration.year).budget
        reservations.apply_deltas(session, {(booking.product_id, booking.day): -booking.quantity},
                                  {product.id: product})
        notifications.send(session, declaration.member, "recup_booking_cancelled",
                           {"base": product.base.name, "day": booking.day.isoformat(), "product": product.name,
                            "reason": (reason or "").strip()}, related=declaration)
        session.commit()
        return booking
    except DomainError:
        session.rollback()
        raise
