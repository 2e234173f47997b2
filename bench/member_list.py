"""Median server time of the scoped member list page at 100k and 1M members.

python bench/member_list.py [ROWS]   (DATABASE_URL chooses the database; default SQLite)
Last line: rows=… county_ms=… city_ms=… rows_small=100000 county_ms_small=… city_ms_small=… county_ratio=… city_ratio=…
(target: the page at 1M within 1.3× of the page at 100k, i.e. both ratios ≤ 1.3)
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from bench._data import bulk_insert, fresh_database_url, member_rows  # noqa: E402

COUNTIES, BASES_PER_COUNTY, UNITS_PER_BASE = 10, 50, 4
REPEAT = 25


def build_tree(session):
    from app.services.organizations import create_org
    from models.organizations import Unit

    city = create_org(session, name="基准市总工会", parent=None, code="310", commit=False)
    org_units = []
    for c in range(COUNTIES):
        county = create_org(session, name=f"基准区{c}总工会", parent=city, code=f"{101 + c}", commit=False)
        for b in range(BASES_PER_COUNTY):
            base = create_org(session, name=f"基准区{c}第{b}基层工会", parent=county, commit=False)
            for u in range(UNITS_PER_BASE):
                unit = Unit(org_id=base.id, name=f"基准单位{c}-{b}-{u}")
                session.add(unit)
                session.flush()
                org_units.append((base.id, unit.id))
    session.commit()
    return city, org_units


def make_users(session, city, first_county):
    from flask import current_app

    sm = current_app.appbuilder.sm
    for name, role, org in (("bench_city", "市总工会管理员", city), ("bench_county", "区县工会管理员", first_county)):
        user = sm.add_user(name, name, "基准", f"{name}@bench.invalid", sm.find_role(role), password="Bench@2026pass")
        user.org_id = org.id
    session.commit()


def page_timer(app, username, unit_id):
    """A logged-in client; each call times the two list pages once (ms each)."""
    from app.testing import IsolatedClient

    client = IsolatedClient(app, app.response_class)  # each request loads its user, as in production
    client.post("/login/", data={"username": username, "password": "Bench@2026pass"})
    urls = ["/memberview/list/?_flt_0_name=张", f"/memberview/list/?_flt_0_unit={unit_id}"]
    for url in urls:  # warm-up
        assert client.get(url).status_code == 200

    def once() -> list[float]:
        times = []
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200 and "member_no" not in response.get_data(as_text=True)[:10]
        return times

    return once


def build(rows: int, sibling: str = ""):
    """An app on its own database holding ``rows`` members; returns (app, county unit id)."""
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from models.members import Member
    from models.organizations import Org

    url = fresh_database_url("member_list", sibling)
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        init_db()
        city, org_units = build_tree(db.session)
        first_county = db.session.scalar(select(Org).where(Org.parent_id == city.id).order_by(Org.id))
        make_users(db.session, city, first_county)
        t0 = time.perf_counter()
        bulk_insert(db.engine, Member.__table__, member_rows(0, rows, org_units))
        _analyze(db.engine)
        print(f"inserted {rows} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return app, org_units[0][1]


def main(total: int = 1_000_000, small: int = 100_000) -> None:
    """Both sizes side by side, timed in alternating rounds: a load spike on this shared machine
    hits both, so the ratio (big / small, median of the rounds' ratios) is what compares."""
    sizes = {"big": build(total), "small": build(small, sibling="small")}
    samples = {(size, who): [] for size in sizes for who in ("county", "city")}
    timers = {}
    for size, (app, unit) in sizes.items():
        for who in ("county", "city"):
            with app.app_context():
                timers[size, who] = (app, page_timer(app, f"bench_{who}", unit))
    for _ in range(REPEAT):
        for key, (app, once) in timers.items():
            with app.app_context():
                samples[key].append(once())
    ms = {key: statistics.median(t for pair in runs for t in pair) for key, runs in samples.items()}
    ratio = {who: statistics.median(sum(b) / sum(s) for b, s in zip(samples["big", who], samples["small", who]))
             for who in ("county", "city")}
    print(f"rows={total} county_ms={ms['big', 'county']:.1f} city_ms={ms['big', 'city']:.1f} rows_small={small} "
          f"county_ms_small={ms['small', 'county']:.1f} city_ms_small={ms['small', 'city']:.1f} "
          f"county_ratio={ratio['county']:.2f} city_ratio={ratio['city']:.2f}")


def _analyze(engine):
    from app.extensions import db

    db.session.close()  # an open snapshot would keep VACUUM from marking pages all-visible
    # what autovacuum does in production: statistics, and on PostgreSQL the
    # visibility map that index-only scans need
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
