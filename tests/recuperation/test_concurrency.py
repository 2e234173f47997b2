"""30 members race for the last 5 rooms: exactly 5 get one (PostgreSQL, real threads)."""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from app.services.recuperation import declarations as svc
from models.recuperation import Declaration, DeclarationStatus, ProductDay, Reservation, ReservationStatus

from .conftest import NOW, YEAR, day, make_product

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="row locks under concurrency need PostgreSQL (DATABASE_URL)")


def test_thirty_members_race_for_the_last_five_rooms(app, ctx, policy, base, member_factory):
    from app.extensions import db

    room = make_product(ctx, base, capacity=7)
    early = [member_factory() for _ in range(2)]
    for member in early:  # 2 of 7 taken before the race: the last 5 are raced for
        svc.submit_declaration(ctx, svc.save_declaration(ctx, member=member, year=YEAR, type="city_all", actor=None,
                                                         days=[day("2025-08-08", room)], now=NOW).declaration.id,
                               actor=None, commitment=True, now=NOW)
    racers = [member_factory() for _ in range(30)]
    drafts = [svc.save_declaration(ctx, member=m, year=YEAR, type="city_all", actor=None,
                                   days=[day("2025-08-08", room)], now=NOW).declaration.id for m in racers]
    barrier = threading.Barrier(len(drafts))
    outcomes: list[str] = []

    def race(declaration_id):
        with app.app_context():
            session = Session(bind=db.engine)
            try:
                barrier.wait()
                svc.submit_declaration(session, declaration_id, actor=None, commitment=True, now=NOW)
                outcomes.append("ok")
            except DomainError as err:
                outcomes.append(err.code)
            finally:
                session.close()

    threads = [threading.Thread(target=race, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctx.expire_all()
    assert outcomes.count("ok") == 5 and outcomes.count("sold_out") == 25
    assert ctx.scalar(select(ProductDay.reserved).where(ProductDay.product_id == room.id)) == 7
    assert ctx.scalar(select(func.sum(Reservation.quantity)).where(
        Reservation.product_id == room.id, Reservation.status == ReservationStatus.RESERVED)) == 7
    assert ctx.scalar(select(func.count(Declaration.id)).where(
        Declaration.id.in_(drafts), Declaration.status == DeclarationStatus.SUBMITTED)) == 5
