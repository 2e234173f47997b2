"""Races that only PostgreSQL shows: one worker submitting the same application twice at once (two
threads, a double tap) → one submission; two drafts of the same stay filled at once → one application."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.errors import DomainError
from app.services.mutual_aid import subsidies
from models.mutual_aid import SubsidyApplication, SubsidyStatus
from models.review import ReviewTrail
from tests.mutual_aid.worker_fixtures import (  # noqa: F401 (fixtures)
    CARD,
    STAY,
    covered,
    filled,
    png,
    worker,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(ctx):
    if ctx.get_bind().dialect.name != "postgresql":
        pytest.skip("races need PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")


def _twice(app, fn):
    """``fn(session)`` in two threads released together; the outcomes ("ok" or the error code)."""
    barrier, results = threading.Barrier(2), []

    def run():
        with app.app_context(), Session(bind=db.engine) as session:
            barrier.wait()
            try:
                fn(session)
                results.append("ok")
            except DomainError as err:
                session.rollback()
                results.append(err.code)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(results)


def test_one_worker_submitting_the_same_application_twice_at_once_submits_it_once(app, ctx, worker):
    number = filled(ctx, worker)
    me = SimpleNamespace(id=worker.id, username=worker.username)
    results = _twice(app, lambda s: subsidies.submit_application(s, me, number))
    assert results == ["invalid_transition", "ok"]
    application = ctx.scalar(select(SubsidyApplication).where(SubsidyApplication.number == number))
    ctx.refresh(application)
    assert application.status == SubsidyStatus.PENDING_FIRST
    assert ctx.scalar(select(func.count(ReviewTrail.id)).where(ReviewTrail.entity == "subsidy_application",
                                                               ReviewTrail.entity_id == application.id)) == 1


def test_the_same_stay_filed_twice_at_once_gives_one_application(app, ctx, worker):
    me = SimpleNamespace(id=worker.id, username=worker.username)
    drafts = []
    for _ in range(2):
        application = subsidies.create_application(ctx, worker)
        subsidies.save_id_photos(ctx, worker, application.number, front=("f.png", png()), back=("b.png", png()))
        drafts.append(application.number)
    turn = iter(drafts)
    lock = threading.Lock()

    def fill(session):
        with lock:
            number = next(turn)
        subsidies.save_stay(session, me, number, **STAY, receipts=[("发票.png", png())])
        subsidies.save_account(session, me, number, {"payee_bank": "工行", "payee_account": CARD})
        subsidies.submit_application(session, me, number)

    assert _twice(app, fill) == ["duplicate_stay", "ok"]
    assert ctx.scalar(select(func.count(SubsidyApplication.id)).where(
        SubsidyApplication.applicant_id == worker.id, SubsidyApplication.status == SubsidyStatus.PENDING_FIRST)) == 1


def test_two_info_changes_filed_at_once_leave_one_unfinished(app, ctx, worker):
    from app.services.mutual_aid import info_changes
    from models.mutual_aid import InfoChangeRequest

    me = SimpleNamespace(id=worker.id, username=worker.username)
    phones = iter(["13911112222", "13911113333"])
    lock = threading.Lock()

    def file(session):
        with lock:
            phone = next(phones)
        info_changes.create_change(session, me, {"phone": phone}, evidence=[("凭证.png", png())])

    assert _twice(app, file) == ["ok", "unfinished_exists"]
    assert ctx.scalar(select(func.count(InfoChangeRequest.id)).where(InfoChangeRequest.applicant_id == worker.id)) == 1
