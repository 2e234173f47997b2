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


def test_one_member_submitting_his_first_plan_twice_at_once_gets_one_plan(app, ctx, policy, base, member_factory):
    """The API's one-query path (``declaring``: no lock on a plan that does not exist yet): the unique
    (member, year) decides; the other request is refused in Chinese, and books nothing."""
    from app.extensions import db

    room = make_product(ctx, base, capacity=10)
    member_id, room_id = member_factory().id, room.id  # (plain ids: the threads share no session)
    barrier = threading.Barrier(4, timeout=30)
    outcomes: list[str] = []

    def submit():
        with app.app_context():
            session = Session(bind=db.engine)
            try:
                who, existing = svc.declaring(session, member_id, YEAR)
                session.commit()  # (the read ends its transaction, as the API's request does not need it)
                barrier.wait()
                svc.save_declaration(session, member=who, year=YEAR, type="city_all", actor=None, now=NOW,
                                     days=[{"date": "2025-08-08", "items": [{"product_id": room_id, "quantity": 1}]}],
                                     submit=True, commitment=True, existing=existing)
                outcomes.append("ok")
            except DomainError as err:
                outcomes.append(f"{err.code}:{err}")
            except Exception as err:  # noqa: BLE001 - shown by the assertion below
                outcomes.append(repr(err))
                barrier.abort()
            finally:
                session.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctx.expire_all()
    assert outcomes.count("ok") == 1, outcomes
    assert sorted(set(outcomes) - {"ok"}) == ["conflict:本年度的计划已由另一次提交保存，请刷新后查看"]
    assert ctx.scalar(select(func.count(Declaration.id)).where(Declaration.member_id == member_id)) == 1
    assert ctx.scalar(select(ProductDay.reserved).where(ProductDay.product_id == room_id)) == 1
