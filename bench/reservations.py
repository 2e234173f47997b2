"""64 concurrent declarers booking 20 products × 30 days through the declaration services.

python bench/reservations.py [DECLARATIONS]   (default 1280 on PostgreSQL, 128 on SQLite; DATABASE_URL
defaults to the local test database; BENCH_DECLARERS sets the declarers, default 64, run as threads in
BENCH_PROCESSES processes, default 4 on PostgreSQL: one Python process is bound to one core by the GIL).

Each declarer is a thread with its own session; each declaration saves a 3-day plan (one product a
day, random dates in the 30-day span, strictly increasing) and submits it in the same call, as the
member API's ``PUT /declaration`` with ``submit: true`` does: the member, his union and his plan of
the year read in one query (``declarations.declaring``), the products with their counters in another
(a day already sold out refuses there, before any write), and on PostgreSQL the reservations with one
conditional upsert of the per-product-per-day counters in a single statement. Capacities are set so that demand exceeds
them: some submits are refused sold_out, as in production. The clock starts when every thread is
ready. Afterwards every counter is checked against its capacity and against the sum of its live
reservations. SQLite serializes writers: the reduced run only shows the rules hold, not the speed.
Last line: declarers=… declarations=… submitted=… sold_out=… seconds=… declarations_per_s=… overbooked=0
"""
from __future__ import annotations

import os
import random
import sys
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

from sqlalchemy import func, select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._data import bulk_insert, fresh_database_url, member_rows  # noqa: E402

YEAR = 2030
NOW = None  # set in main (Beijing, inside the window)
PRODUCTS, DAYS, PLAN_DAYS = 20, 30, 3


def setup(app, declarations: int):
    from app.cli import init_db
    from app.extensions import db
    from app.services.organizations import create_org
    from app.services.recuperation.policy import default_policy
    from models.members import Member
    from models.recuperation import Product, RecupBase

    with app.app_context():
        init_db()
        city = create_org(db.session, name="基准市总工会", parent=None, code="330")
        county = create_org(db.session, name="基准区总工会", parent=city, code="602")
        union = create_org(db.session, name="基准基层工会", parent=county)
        db.session.add(default_policy(YEAR))
        base = RecupBase(name="基准疗休养基地", org_id=county.id, status="active")
        db.session.add(base)
        db.session.flush()
        # demand: declarations × 3 bookings over 600 product-days; capacity ≈ 80 % of the average demand
        capacity = max(1, int(declarations * PLAN_DAYS / (PRODUCTS * DAYS) * 0.8))
        for i in range(PRODUCTS):
            db.session.add(Product(base_id=base.id, org_id=county.id, category=["meal", "activity", "lodging"][i % 3],
                                   name=f"产品{i + 1}", price=Decimal("88.00"), group_price=Decimal("100.00"),
                                   daily_capacity=capacity, status="on_sale"))
        db.session.commit()
        bulk_insert(db.engine, Member.__table__, member_rows(0, declarations, [(union.id, None)]))
        db.session.execute(update(Member).values(has_citizen_card=True))  # 市内 types need the citizen card
        db.session.commit()
        products = [p.id for p in db.session.scalars(select(Product).order_by(Product.id))]
        member_ids = list(db.session.scalars(select(Member.id).order_by(Member.id)))
        return products, member_ids, capacity


def plan(rng: random.Random, products: list[int]) -> list[dict]:
    start = date(YEAR, 5, 1)
    offsets = sorted(rng.sample(range(DAYS), PLAN_DAYS))
    return [{"date": (start + timedelta(days=o)).isoformat(), "items": [{"product_id": rng.choice(products),
                                                                         "quantity": 1}]} for o in offsets]


def _child(app, group, products, index, ready, results) -> None:
    from app.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)  # never share the parent's sockets after fork
    outcomes, _seconds = _run_group(app, group, products, index, ready, None)
    results.put(outcomes)


def _run_group(app, chunks, products, index, process_ready, _unused):
    """Threads, one per declarer of ``chunks``; returns (outcomes by code, seconds)."""
    from app.extensions import db
    from app.services.errors import DomainError
    from app.services.recuperation import declarations as svc

    ready = threading.Barrier(len(chunks) + 1)
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def declarer(n: int, mine: list[int]) -> None:
        rng = random.Random(index * 1000 + n)
        with app.app_context():
            session = Session(bind=db.engine, expire_on_commit=False)
            ready.wait()
            for member_id in mine:
                member, existing = svc.declaring(session, member_id, YEAR)  # as the member API loads him
                try:
                    svc.save_declaration(session, member=member, year=YEAR, type="city_all", actor=None,
                                         days=plan(rng, products), now=NOW, submit=True, commitment=True,
                                         existing=existing)
                    key = "submitted"
                except DomainError as err:
                    key = err.code
                with lock:
                    outcomes[key] = outcomes.get(key, 0) + 1
            session.close()

    threads = [threading.Thread(target=declarer, args=(n, chunk)) for n, chunk in enumerate(chunks)]
    for t in threads:
        t.start()
    ready.wait()
    if process_ready is not None:
        process_ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return outcomes, time.perf_counter() - started


def main() -> None:
    global NOW
    from app import create_app
    from app.extensions import db
    from models.base import DISPLAY_TZ
    from models.recuperation import ProductDay, Reservation

    url = fresh_database_url("reservations")
    postgres = url.startswith("postgresql")
    declarations = int(sys.argv[1]) if len(sys.argv) > 1 else (1280 if postgres else 128)
    declarers = int(os.environ.get("BENCH_DECLARERS", "64" if postgres else "8"))
    NOW = datetime(YEAR, 3, 1, 9, tzinfo=DISPLAY_TZ)
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": declarers // 2 + 4, "max_overflow": 8}
                      if postgres else {}})
    products, member_ids, capacity = setup(app, declarations)
    processes = int(os.environ.get("BENCH_PROCESSES", "4" if postgres else "1"))
    chunks = [member_ids[i::declarers] for i in range(declarers)]
    groups = [chunks[i::processes] for i in range(processes)]  # declarers as threads in a few processes (the GIL)
    if processes == 1:
        outcomes, seconds = _run_group(app, groups[0], products, 0, None, None)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        with app.app_context():
            db.engine.dispose()  # the children open their own connections
        ready, results = ctx.Barrier(processes + 1), ctx.Queue()
        workers = [ctx.Process(target=_child, args=(app, group, products, n, ready, results))
                   for n, group in enumerate(groups)]
        for w in workers:
            w.start()
        ready.wait()
        started = time.perf_counter()
        outcomes = {}
        for _ in workers:
            for key, n in results.get().items():
                outcomes[key] = outcomes.get(key, 0) + n
        seconds = time.perf_counter() - started
        for w in workers:
            w.join()
    with app.app_context():
        over = db.session.scalar(select(func.count(ProductDay.id)).where(ProductDay.reserved > ProductDay.capacity))
        sums = {(p, d): q for p, d, q in db.session.execute(
            select(Reservation.product_id, Reservation.day, func.sum(Reservation.quantity))
            .where(Reservation.status == "reserved").group_by(Reservation.product_id, Reservation.day))}
        counters = {(r.product_id, r.day): r.reserved for r in db.session.scalars(select(ProductDay))}
        mismatched = sum(1 for key in set(sums) | set(counters) if sums.get(key, 0) != counters.get(key, 0))
        beyond = sum(1 for q in sums.values() if q > capacity)
    overbooked = over + beyond + mismatched
    done = sum(outcomes.values())
    if not postgres:
        print("SQLite: reduced run (writers are serialized; set DATABASE_URL=postgresql+psycopg://… for the bench)")
    print(f"declarers={declarers} processes={processes} declarations={done} submitted={outcomes.get('submitted', 0)} "
          f"sold_out={outcomes.get('sold_out', 0)} other_refusals={done - outcomes.get('submitted', 0) - outcomes.get('sold_out', 0)} "
          f"capacity={capacity} seconds={seconds:.2f} declarations_per_s={done / seconds:.0f} overbooked={overbooked}")


if __name__ == "__main__":
    main()
