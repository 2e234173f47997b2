"""32 concurrent HTTP clients claiming vouchers of one activity through gunicorn on PostgreSQL,
measured against the floor in the same run.

python bench/claims.py [ATTEMPTS]   (default 4000; DATABASE_URL defaults to the local test database;
BENCH_WORKERS sets the gunicorn workers, default 4; BENCH_GUNICORN_ARGS adds gunicorn options;
gunicorn runs with the production gunicorn.conf.py on a free port). The clients log in first; the
clock starts when all have. claims_per_s counts the issuing phases: issued / time until the last
voucher went out (the remaining attempts then get 409 sold_out). p50/p99 are over every claim.
Claims and floor run in four alternating rounds of a quarter of the attempts each.

The floor: the same 32 clients, under the same gunicorn, against a bare endpoint that runs only the
claim's one UPDATE … RETURNING (bench/floor_app.py: no JWT, no permission check, no facts query) on a
second activity of the same size; floor_per_s is measured like claims_per_s, and
floor_ratio = claims_per_s / floor_per_s (target ≥ 0.6, with p99_ms ≤ 150 and over_issued=0).
Last line: clients=32 attempts=… issued=… quantity=… claims_per_s=… p50_ms=… p99_ms=… over_issued=0
floor_per_s=… floor_ratio=…
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

from sqlalchemy import func, select  # noqa: E402

from bench._data import fresh_database_url  # noqa: E402

CLIENTS, QUANTITY, PASSWORD, ROUNDS = 32, 3000, "Bench@2026pass", 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()


def setup() -> tuple[int, int, list[int]]:
    """Two approved, opened activities of QUANTITY vouchers each (the claims', the floor's) and
    CLIENTS certified 在会 members with accounts; returns both activity ids and the member ids."""
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import members, vouchers
    from app.services.organizations import create_org
    from models.base import utcnow
    from models.members import CertStatus
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
        coupon = Coupon(merchant_id=merchant.id, org_id=union.id, title="券", name="券", quantity=2 * QUANTITY,
                        allocated=2 * QUANTITY, valid_from=utcnow() - timedelta(days=1),
                        valid_to=utcnow() + timedelta(days=9), face_value=vouchers.money(10), enabled=True)
        activities = [Activity(org_id=union.id, title=title, claim_limit="daily", claims_per_day=100_000,
                               start_at=utcnow() - timedelta(minutes=1), end_at=utcnow() + timedelta(days=1),
                               status=ActivityStatus.APPROVED, run_status=ActivityRunStatus.OPEN)
                      for title in ("基准领券", "基准下限")]
        db.session.add_all([coupon, *activities])
        db.session.flush()
        db.session.add_all([Prize(activity_id=a.id, coupon_id=coupon.id, quantity=QUANTITY) for a in activities])
        db.session.commit()
        for activity in activities:
            vouchers.generate_vouchers(db.session, activity.id)
        sm = app.appbuilder.sm
        rng = random.Random(3)
        member_ids = []
        for i in range(CLIENTS):
            member = members.create_member(db.session, name=chinese_name(rng), id_number=resident_id(rng),
                                           org_id=union.id)
            member.cert_status = CertStatus.VERIFIED  # only certified members claim (seed 003 L23)
            user = sm.add_user(f"claimer{i}", "基准", "会员", f"c{i}@bench.invalid", sm.find_role("会员"),
                               password=PASSWORD)
            user.member_id, user.org_id = member.id, union.id
            member_ids.append(member.id)
        db.session.commit()
        return activities[0].id, activities[1].id, member_ids


def count_claimed(activity_id) -> int:
    from app import create_app
    from app.extensions import db
    from models.vouchers import Voucher

    app = create_app({"APP_ENV": "testing"})
    with app.app_context():
        return db.session.scalar(select(func.count(Voucher.id)).where(Voucher.activity_id == activity_id,
                                                                      Voucher.member_id.is_not(None)))


def token(index) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    body = json.dumps({"username": f"claimer{index}", "password": PASSWORD, "provider": "db", "refresh": False})
    conn.request("POST", "/api/v1/security/login", body, {"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["access_token"]


def client(index, path, attempts, latencies, statuses, lock, ready, bearer=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Content-Length": "0"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    mine, codes = [], []
    ready.wait()
    for _ in range(attempts):
        start = time.perf_counter()
        conn.request("POST", path, headers=headers)
        response = conn.getresponse()
        response.read()
        done = time.perf_counter()
        mine.append((done - start) * 1000)
        codes.append((response.status, done))
    with lock:
        latencies.extend(mine)
        statuses.extend(codes)


def run_phase(paths, attempts_per_client, tokens=None):
    """CLIENTS threads, one keep-alive connection each; returns (latencies ms, [(status, done)], issuing
    seconds: from the start until the last voucher of the phase went out, 0 when none did)."""
    latencies, statuses, lock = [], [], threading.Lock()
    ready = threading.Barrier(CLIENTS + 1)
    threads = [threading.Thread(target=client, args=(i, paths[i], attempts_per_client, latencies, statuses, lock,
                                                     ready, tokens[i] if tokens else None)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    ready.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    issued_at = [done for code, done in statuses if code == 201]
    return latencies, statuses, (max(issued_at) - start) if issued_at else 0.0


def main(attempts: int = 4000) -> None:
    activity_id, floor_activity_id, member_ids = setup()
    env = {**os.environ, "APP_ENV": "testing", "RATELIMIT_ENABLED": "0", "SESSION_IDLE_MINUTES": "60",
           "SECRET_KEY": secrets.token_urlsafe(48)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                               "-w", os.environ.get("BENCH_WORKERS", "4"),
                               *os.environ.get("BENCH_GUNICORN_ARGS", "").split(), "-b", f"127.0.0.1:{PORT}",
                               "--log-level", "warning", "bench.floor_app:app"], cwd=ROOT, env=env)
    per_client = attempts // CLIENTS
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/login/")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)
        # logins (deliberately slow password hashing) are not part of the timing
        tokens = [token(i) for i in range(CLIENTS)]
        claim_paths = [f"/api/v1/member-vouchers/activities/{activity_id}/claim"] * CLIENTS
        floor_paths = [f"/bench/floor/{floor_activity_id}/{member_ids[i]}" for i in range(CLIENTS)]
        # both sides in alternating rounds, so that a load change on the machine hits both alike
        latencies, statuses, floor_statuses, seconds, floor_seconds = [], [], [], 0.0, 0.0
        for n in range(ROUNDS):
            share = per_client // ROUNDS + (per_client % ROUNDS if n == ROUNDS - 1 else 0)
            lat, st, sec = run_phase(claim_paths, share, tokens)
            latencies += lat
            statuses += st
            seconds += sec
            _lat, st, sec = run_phase(floor_paths, share)
            floor_statuses += st
            floor_seconds += sec
    finally:
        server.terminate()
        server.wait(timeout=20)
    issued, floor_issued = count_claimed(activity_id), count_claimed(floor_activity_id)
    total = per_client * CLIENTS
    for phase, got, answers in (("claims", issued, statuses), ("floor", floor_issued, floor_statuses)):
        codes = [code for code, _done in answers]
        assert codes.count(201) == got, (phase, codes.count(201), got)
        assert all(c in (201, 409) for c in codes), (phase, sorted(set(codes)))
    claims_per_s = issued / seconds
    floor_per_s = floor_issued / floor_seconds
    latencies.sort()
    print(f"clients={CLIENTS} attempts={total} issued={issued} quantity={QUANTITY} "
          f"claims_per_s={claims_per_s:.0f} p50_ms={statistics.median(latencies):.1f} "
          f"p99_ms={latencies[int(len(latencies) * 0.99) - 1]:.1f} over_issued={max(0, issued - min(total, QUANTITY))} "
          f"floor_per_s={floor_per_s:.0f} floor_ratio={claims_per_s / floor_per_s:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
