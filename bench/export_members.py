"""Member list export as a job (scope, filters, masking, neutralization, streaming) against
a bare xlsxwriter constant_memory write of the same rows.

python bench/export_members.py [N]   (default 1000000; DATABASE_URL chooses the database)
Last line: rows=… seconds=… bare_seconds=… ratio=… peak_rss_mb=…
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bench._data import OUT, bulk_insert, fresh_database_url, member_rows, peak_rss_mb  # noqa: E402


def main(n: int = 1_000_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import exports
    from app.services.organizations import create_org
    from models.members import Member
    from models.organizations import Org, Unit

    url = fresh_database_url("export_members")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "FILE_DIR": str(OUT / "files")})
    with app.app_context():
        init_db()
        city = create_org(db.session, name="基准市总工会", parent=None, code="310", commit=False)
        county = create_org(db.session, name="基准区总工会", parent=city, code="101", commit=False)
        org_units = []
        for b in range(10):
            base = create_org(db.session, name=f"基准第{b}基层工会", parent=county, commit=False)
            for u in range(5):
                unit = Unit(org_id=base.id, name=f"基准单位{b}-{u}")
                db.session.add(unit)
                db.session.flush()
                org_units.append((base.id, unit.id))
        sm = app.appbuilder.sm
        user = sm.add_user("bench_city", "基准", "市", "c@bench.invalid", sm.find_role("市总工会管理员"),
                           password="Bench@2026pass")
        user.org_id = city.id
        db.session.commit()
        user_id = user.id
        bulk_insert(db.engine, Member.__table__, member_rows(0, n, org_units))
        db.session.close()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
        print(f"inserted {n}", file=sys.stderr)

        start = time.perf_counter()
        user = db.session.get(type(user), user_id)
        job = exports.create_export_job(db.session, actor=user, view_name="MemberView", title="会员管理", args={})
        job = exports.run_export(job.id)
        seconds = time.perf_counter() - start
        rss = peak_rss_mb()
        assert job.ok_rows == n, (job.status, job.message, job.ok_rows)

        start = time.perf_counter()
        book = xlsxwriter.Workbook(str(OUT / "bare.xlsx"), {"constant_memory": True})
        sheet = book.add_worksheet("bare")
        query = (select(Member.member_no, Member.name, Member.gender, Member.id_type, Member.id_number, Member.phone,
                        Member.birth_date, Unit.name, Org.name, Member.status, Member.cert_status)
                 .select_from(Member).outerjoin(Unit, Member.unit_id == Unit.id).join(Org, Member.org_id == Org.id)
                 .order_by(Member.id.desc()))
        with db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
            for r, row in enumerate(result, start=1):
                sheet.write_row(r, 0, row)
        book.close()
        bare = time.perf_counter() - start
    print(f"rows={n} seconds={seconds:.2f} bare_seconds={bare:.2f} ratio={seconds / bare:.2f} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
