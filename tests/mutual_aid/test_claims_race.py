"""PostgreSQL race: 16 handlers 获取 the same 50 cases at once (threads, separate sessions) → every
case goes to exactly one handler, and the stored handler is the one told he won."""
from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.services.mutual_aid import claims
from models.base import utcnow
from models.mutual_aid import Claim, ClaimStatus
from tests.factories import make_user

from .claims_env import env  # noqa: F401  (fixture)

HANDLERS, CASES = 16, 50


@pytest.fixture()
def postgres(ctx):
    if ctx.get_bind().dialect.name != "postgresql":
        pytest.skip("the race needs PostgreSQL (DATABASE_URL)")


def test_sixteen_handlers_take_the_same_fifty_cases(postgres, env):
    person = env.people[0]
    kind = env.kind("重大疾病")
    now = utcnow()
    tag = f"SLRACE{now:%H%M%S%f}"
    env.ctx.execute(insert(Claim), [
        {"number": f"{tag}{i:03d}", "insured_person_id": person.id, "enrollment_plan_id": person.enrollment_plan_id,
         "claim_kind_id": kind.id, "org_id": env.enrollment.org_id, "member_unit_id": env.enrollment.member_unit_id,
         "status": ClaimStatus.FEE_ENTRY.value, "accepted_at": now, "status_at": now, "created_at": now,
         "declined": False} for i in range(CASES)])
    env.ctx.commit()
    ids = list(env.ctx.scalars(select(Claim.id).where(Claim.number.like(f"{tag}%"))))
    users = [make_user(env.ctx, "办事处业务人员", env.office) for _ in range(HANDLERS)]
    user_ids = [u.id for u in users]
    from flask import current_app
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(env.ctx.get_bind().url, poolclass=NullPool)  # one connection per handler, no pool limit

    flask_app = current_app._get_current_object()
    won: dict[int, list[int]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(HANDLERS)

    def handler(user_id: int) -> None:
        try:
            with flask_app.app_context():  # the scope function reads the roles' scope kinds
                with Session(engine) as session:
                    me = session.get(type(users[0]), user_id)
                    order = ids[:]
                    random.Random(user_id).shuffle(order)
                    barrier.wait()
                    mine = []
                    for start in range(0, CASES, 5):
                        mine += claims.take_claims(session, order[start:start + 5], me)
                    won[user_id] = mine
        except BaseException as err:  # noqa: BLE001 — reported below
            errors.append(err)

    threads = [threading.Thread(target=handler, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert not errors, errors
    taken = [i for got in won.values() for i in got]
    assert sorted(taken) == sorted(ids)  # each case exactly once
    env.ctx.expire_all()
    stored = dict(env.ctx.execute(select(Claim.id, Claim.handler_id).where(Claim.id.in_(ids))).all())
    assert all(stored[i] == u for u, got in won.items() for i in got)
