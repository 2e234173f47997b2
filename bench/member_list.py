"""Median server time of the scoped member list page at 100k and 1M members.

python bench/member_list.py [ROWS]   (DATABASE_URL chooses the database; default SQLite)
Last line: rows=… county_ms=… city_ms=… rows_small=100000 county_ms_small=… city_ms_small=…
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
REPEAT = 15


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


def timed_pages(app, username, unit_id):
    from app.testing import IsolatedClient

    client = IsolatedClient(app, app.response_class)  # each request loads its user, as in production
    client.post("/login/", data={"username": username, "password": "Bench@2026pass"})
    urls = ["/memberview/list/?_flt_0_name=张", f"/memberview/list/?_flt_0_unit={unit_id}"]
    for url in urls:  # warm-up
        assert client.get(url).status_code == 200
    times = []
    for _ in range(REPEAT):
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200 and "member_no" not in response.get_data(as_text=True)[:10]
    return statistics.median(times)


def main(total: int = 1_000_000, small: int = 100_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from models.members import Member
    from models.organizations import Org

    url = fresh_database_url("member_list")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        init_db()
        city, org_units = build_tree(db.session)
        first_county = db.session.scalar(select(Org).where(Org.parent_id == city.id).order_by(Org.id))
        make_users(db.session, city, first_county)
        county_unit = org_units[0][1]
        engine = db.engine
        t0 = time.perf_counter()
        bulk_insert(engine, Member.__table__, member_rows(0, small, org_units))
        _analyze(engine)
        print(f"inserted {small} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        county_small = timed_pages(app, "bench_county", county_unit)
        city_small = timed_pages(app, "bench_city", county_unit)
        t0 = time.perf_counter()
        bulk_insert(engine, Member.__table__, member_rows(small, total - small, org_units))
        _analyze(engine)
        print(f"inserted {total - small} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        county_ms = timed_pages(app, "bench_county", county_unit)
        city_ms = timed_pages(app, "bench_city", county_unit)
    print(f"rows={total} county_ms={county_ms:.1f} city_ms={city_ms:.1f} rows_small={small} "
          f"county_ms_small={county_small:.1f} city_ms_small={city_small:.1f}")


def _analyze(engine):
    from app.extensions import db

    db.session.close()  # an open snapshot would keep VACUUM from marking pages all-visible
    # what autovacuum does in production: statistics, and on PostgreSQL the
    # visibility map that index-only scans need
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
