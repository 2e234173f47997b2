"""费用录入 work pool (I-8) under contention: 16 handlers 获取 from the same pool on PostgreSQL.

python bench/work_pool.py [CASES] [HANDLERS]   (default 2000 cases, 16 handlers; DATABASE_URL must name a
PostgreSQL database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test_h2 — its public schema is
dropped and recreated; on SQLite the bench prints ``skipped``). Each handler (a thread with its own
session and connection) walks the pool in its own random order and takes ten cases per 获取 through
``app.services.work_pool.take`` (one conditional UPDATE … RETURNING), committing each time.
Last line: cases=… seconds=… double_taken=0 handlers=… takes=…
  double_taken  cases reported as taken by more than one handler, plus cases whose stored handler
                differs from the one that was told it won (must be 0)
"""
from __future__ import annotations

import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._data import OUT, fresh_database_url  # noqa: E402
from bench._mutual_aid import PASSWORD, enrollment_setup, person_ids  # noqa: E402


def setup(app, session, n: int, handlers: int):
    from app.services.mutual_aid.claims import ensure_claim_kinds
    from models.base import utcnow
    from models.mutual_aid import Claim, ClaimStatus, InsuredPerson

    enrollment, _handler = enrollment_setup(app, session)
    line = enrollment.plans[0]
    person = InsuredPerson(enrollment_plan_id=line.id, enrollment_id=enrollment.id, plan_id=line.plan_id, name="基准人",
                           id_number=next(person_ids(1)), mobile="13900000001")
    session.add(person)
    kind = ensure_claim_kinds(session)[0]
    session.commit()
    now = utcnow()
    session.execute(insert(Claim), [
        {"number": f"SLBENCH{i:08d}", "insured_person_id": person.id, "enrollment_plan_id": line.id,
         "claim_kind_id": kind.id, "org_id": enrollment.org_id, "member_unit_id": enrollment.member_unit_id,
         "status": ClaimStatus.FEE_ENTRY.value, "accepted_at": now, "status_at": now, "created_at": now,
         "declined": False} for i in range(n)])
    sm = app.appbuilder.sm
    users = []
    for h in range(handlers):
        user = sm.add_user(f"bench_pool{h}", "基准", f"经办{h}", f"pool{h}@bench.invalid",
                           sm.find_role("办事处业务人员"), password=PASSWORD)
        users.append(user.id)
    session.commit()
    return sorted(session.scalars(select(Claim.id))), users


def main(n: int = 2000, handlers: int = 16) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("work_pool: skipped (set DATABASE_URL to a PostgreSQL database)")
        return
    from types import SimpleNamespace

    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import work_pool
    from models.mutual_aid import Claim, ClaimStatus

    url = fresh_database_url("work_pool")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "CELERY_TASK_ALWAYS_EAGER": True, "FILE_DIR": str(OUT / "files"),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": handlers + 2, "max_overflow": 4}})
    with app.app_context():
        init_db()
        ids, users = setup(app, db.session, n, handlers)
        db.session.remove()
        engine = db.engine
        won: dict[int, list[int]] = {u: [] for u in users}
        takes = [0]
        barrier = threading.Barrier(handlers + 1)
        lock = threading.Lock()

        def handler(user_id: int) -> None:
            order = ids[:]
            random.Random(user_id).shuffle(order)
            me = SimpleNamespace(id=user_id)
            barrier.wait()
            with Session(engine) as session:
                for start in range(0, len(order), 10):
                    got = work_pool.take(session, Claim, order[start:start + 10], me,
                                         pool_status=ClaimStatus.FEE_ENTRY)
                    session.commit()
                    won[user_id].extend(got)
                    with lock:
                        takes[0] += 1

        threads = [threading.Thread(target=handler, args=(u,)) for u in users]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        claimed = [i for got in won.values() for i in got]
        stored = dict(db.session.execute(select(Claim.id, Claim.handler_id)).all())
        mismatched = sum(1 for u, got in won.items() for i in got if stored[i] != u)
        double = len(claimed) - len(set(claimed)) + mismatched
        untaken = sum(1 for h in stored.values() if h is None)
        print(f"taken={len(set(claimed))} untaken={untaken} per_handler_min={min(map(len, won.values()))} "
              f"max={max(map(len, won.values()))}", file=sys.stderr)
    print(f"cases={n} seconds={seconds:.2f} double_taken={double} handlers={handlers} takes={takes[0]}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
