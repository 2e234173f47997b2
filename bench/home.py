"""Median server time of the home page (to-do cards + charts, charts not cached) and the statistics
page, for a city and a county admin, at 100k and 1M members (10 counties × 50 base unions) with 100k
vouchers; at 1M also with the proposed covering index member (org_id, status, cert_status).

python bench/home.py [ROWS]   (DATABASE_URL chooses the database; default SQLite)
Last line: rows=… home_city_ms=… stats_city_ms=… home_county_ms=… stats_county_ms=… (…_indexed) rows_small=… …_small=…
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text, update  # noqa: E402

from bench._data import bulk_insert, fresh_database_url, member_rows  # noqa: E402
from bench.member_list import _analyze, build_tree, make_users  # noqa: E402

REPEAT = 7
VOUCHERS = 100_000
STATUSES = ["unverified"] * 5 + ["verified"] * 3 + ["pending", "rejected"]  # one in ten awaits review


def members(start, count, org_units):
    for i, row in enumerate(member_rows(start, count, org_units), start):
        row["cert_status"] = STATUSES[i % len(STATUSES)]
        yield row


def add_vouchers(session, county):
    """One approved activity of the county with 100k vouchers: a third claimed, a ninth redeemed."""
    from app.services import vouchers
    from models.base import utcnow
    from models.vouchers import Activity, ActivityStatus, Coupon, Merchant, Prize, Voucher

    merchant = Merchant(org_id=county.id, name="基准商家")
    session.add(merchant)
    session.flush()
    coupon = Coupon(merchant_id=merchant.id, org_id=county.id, title="券", name="券", quantity=VOUCHERS,
                    allocated=VOUCHERS, valid_from=date.today(), valid_to=date.today() + timedelta(days=30),
                    face_value=vouchers.money(10), enabled=True)
    activity = Activity(org_id=county.id, title="基准活动", start_at=utcnow() - timedelta(days=3),
                        end_at=utcnow() + timedelta(days=20), status=ActivityStatus.APPROVED)
    session.add_all([coupon, activity])
    session.flush()
    session.add(Prize(activity_id=activity.id, coupon_id=coupon.id, quantity=VOUCHERS))
    session.commit()
    vouchers.generate_vouchers(session, activity.id)
    first = session.scalar(select(Voucher.id).order_by(Voucher.id).limit(1))
    now = utcnow()
    session.execute(update(Voucher).where((Voucher.id - first) % 3 == 0).values(
        status="claimed", member_id=1, claimed_at=now - timedelta(days=1)))
    session.execute(update(Voucher).where((Voucher.id - first) % 9 == 0).values(
        status="redeemed", redeemed_at=now, redeemed_merchant_id=merchant.id))
    session.commit()


def timed(app, username):
    from app.testing import IsolatedClient

    client = IsolatedClient(app, app.response_class)  # each request loads its user, as in production
    client.post("/login/", data={"username": username, "password": "Bench@2026pass"})
    out = {}
    for name, url, marker in (("home", "/", "home-todo"), ("stats", "/statistics/", "stat-table")):
        response = client.get(url)  # warm-up
        assert response.status_code == 200 and marker in response.get_data(as_text=True), (name, username)
        times = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(times)
    return out


def main(total: int = 1_000_000, small: int = 100_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from models.members import Member
    from models.organizations import Org

    url = fresh_database_url("home")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "HOME_FIGURES_SECONDS": 0})  # every home page computes
    results = {}
    with app.app_context():
        init_db()
        city, org_units = build_tree(db.session)
        first_county = db.session.scalar(select(Org).where(Org.parent_id == city.id).order_by(Org.id))
        make_users(db.session, city, first_county)
        for label, start, count in (("_small", 0, small), ("", small, total - small)):
            t0 = time.perf_counter()
            bulk_insert(db.engine, Member.__table__, members(start, count, org_units))
            if label:
                add_vouchers(db.session, first_county)
            _analyze(db.engine)
            print(f"inserted {count} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            for who in ("city", "county"):
                for page, ms in timed(app, f"bench_{who}").items():
                    results[f"{page}_{who}_ms{label}"] = ms
        with db.engine.begin() as conn:  # the index this bench proposes for models/members.py
            conn.execute(text("CREATE INDEX ix_member_org_status_cert ON member (org_id, status, cert_status)"))
        _analyze(db.engine)
        for who in ("city", "county"):
            for page, ms in timed(app, f"bench_{who}").items():
                results[f"{page}_{who}_ms_indexed"] = ms
    figures = " ".join(f"{k}={v:.1f}" for k, v in results.items() if not k.endswith("_small"))
    small_figures = " ".join(f"{k}={v:.1f}" for k, v in results.items() if k.endswith("_small"))
    print(f"rows={total} {figures} rows_small={small} {small_figures}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
