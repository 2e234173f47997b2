"""32 concurrent HTTP clients claiming vouchers of one activity through gunicorn on PostgreSQL.

python bench/claims.py [ATTEMPTS]   (default 4000; DATABASE_URL defaults to the local test database;
BENCH_WORKERS sets the gunicorn workers, default 4; BENCH_GUNICORN_ARGS adds gunicorn options;
gunicorn runs with the production gunicorn.conf.py). The clients log in first; the clock starts
when all have. claims_per_s counts the issuing phase: issued / time until the last voucher went
out (the remaining attempts then get 409 sold_out). p50/p99 are over every attempt.
Last line: clients=32 attempts=… issued=… quantity=… claims_per_s=… p50_ms=… p99_ms=… over_issued=0
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

from sqlalchemy import func, select  # noqa: E402

from bench._data import fresh_database_url  # noqa: E402

CLIENTS, QUANTITY, PORT, PASSWORD = 32, 3000, 5077, "Bench@2026pass"


def setup() -> int:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import members, vouchers
    from app.services.organizations import create_org
    from models.base import utcnow
    from models.vouchers import Activity, ActivityRunStatus, ActivityStatus, Coupon, Merchant, Prize
    from seed.generators import chinese_name, resident_id

    import random

    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": fresh_database_url("claims")})
    with app.app_context():
        init_db()
        city = create_org(db.session, name="基准市总工会", parent=None, code="310")
        county = create_org(db.session, name="基准区总工会", parent=city, code="101")
        union = create_org(db.session, name="基准基层工会", parent=county)
        merchant = Merchant(org_id=union.id, name="基准商家")
        db.session.add(merchant)
        db.session.flush()
        coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="券", name="券", quantity=QUANTITY,
                        allocated=QUANTITY, valid_from=date.today(), valid_to=date.today() + timedelta(days=9),
                        face_value=vouchers.money(10), enabled=True)
        activity = Activity(org_id=union.id, title="基准领券", claim_limit="daily", claims_per_day=100_000,
                            start_at=utcnow() - timedelta(minutes=1), end_at=utcnow() + timedelta(days=1),
                            status=ActivityStatus.APPROVED, run_status=ActivityRunStatus.OPEN)
        db.session.add_all([coupon, activity])
        db.session.flush()
        db.session.add(Prize(activity_id=activity.id, coupon_id=coupon.id, quantity=QUANTITY))
        db.session.commit()
        vouchers.generate_vouchers(db.session, activity.id)
        sm = app.appbuilder.sm
        rng = random.Random(3)
        for i in range(CLIENTS):
            member = members.create_member(db.session, name=chinese_name(rng), id_number=resident_id(rng),
                                           org_id=union.id)
            user = sm.add_user(f"claimer{i}", "基准", "会员", f"c{i}@bench.invalid", sm.find_role("会员"),
                               password=PASSWORD)
            user.member_id, user.org_id = member.id, union.id
        db.session.commit()
        return activity.id


def count_claimed(activity_id) -> int:
    from app import create_app
    from app.extensions import db
    from models.vouchers import Voucher

    app = create_app({"APP_ENV": "testing"})
    with app.app_context():
        return db.session.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity_id,
                                                                      Voucher.member_id.is_not(None)))


def client(index, activity_id, attempts, latencies, statuses, lock, ready):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    body = json.dumps({"username": f"claimer{index}", "password": PASSWORD, "provider": "db", "refresh": False})
    conn.request("POST", "/api/v1/security/login", body, {"Content-Type": "application/json"})
    token = json.loads(conn.getresponse().read())["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Length": "0"}
    mine, codes = [], []
    ready.wait()  # logins (deliberately slow password hashing) are not part of the claims timing
    for _ in range(attempts):
        start = time.perf_counter()
        conn.request("POST", f"/api/v1/member-vouchers/activities/{activity_id}/claim", headers=headers)
        response = conn.getresponse()
        response.read()
        done = time.perf_counter()
        mine.append((done - start) * 1000)
        codes.append((response.status, done))
    with lock:
        latencies.extend(mine)
        statuses.extend(codes)


def main(attempts: int = 4000) -> None:
    activity_id = setup()
    env = {**os.environ, "APP_ENV": "testing", "RATELIMIT_ENABLED": "0", "SESSION_IDLE_MINUTES": "60",
           "SECRET_KEY": secrets.token_urlsafe(48)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", os.environ.get("BENCH_WORKERS", "4"), *os.environ.get("BENCH_GUNICORN_ARGS", "").split(), "-b", f"127.0.0.1:{PORT}",
                               "--log-level", "warning", "app.wsgi:app"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/login/")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)
        latencies, statuses, lock = [], [], threading.Lock()
        per_client = attempts // CLIENTS
        ready = threading.Barrier(CLIENTS + 1)
        threads = [threading.Thread(target=client, args=(i, activity_id, per_client, latencies, statuses, lock, ready))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        ready.wait()
        start = time.perf_counter()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=20)
    issued = count_claimed(activity_id)
    total = per_client * CLIENTS
    codes = [code for code, _done in statuses]
    assert codes.count(201) == issued, (codes.count(201), issued)
    assert all(c in (201, 409) for c in codes), sorted(set(codes))
    # claims/s over the issuing phase: until the last voucher went out (sold-out answers come after)
    issuing = max(done for code, done in statuses if code == 201) - start
    latencies.sort()
    print(f"clients={CLIENTS} attempts={total} issued={issued} quantity={QUANTITY} "
          f"claims_per_s={issued / issuing:.0f} p50_ms={statistics.median(latencies):.1f} "
          f"p99_ms={latencies[int(len(latencies) * 0.99) - 1]:.1f} over_issued={max(0, issued - min(total, QUANTITY))}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
