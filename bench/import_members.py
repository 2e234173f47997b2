"""End-to-end member import: upload → job done → result file, against a naive baseline.

python bench/import_members.py [N]   (default 100000; DATABASE_URL chooses the database)
Last line: rows=… seconds=… rows_per_s=… peak_rss_mb=… baseline_seconds=… ratio=… floor_seconds=… floor_ratio=…
The baseline (openpyxl + one ORM object per row) runs only for N ≤ 100000 (ratio = baseline / ours,
target ≥ 8). The floor, in the same run: calamine read of the same file + one bulk insert of the same
rows, no validation (floor_ratio = ours / floor, target ≤ 2.5).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from bench._data import OUT, fresh_database_url, member_rows, peak_rss_mb  # noqa: E402

BAD_EVERY = 200  # one row in 200 is wrong, so the result file is written too
LABELS = {"male": "男", "female": "女"}


def build_tree(session):
    from app.services.organizations import create_org
    from models.organizations import Unit

    city = create_org(session, name="基准市总工会", parent=None, code="310", commit=False)
    county = create_org(session, name="基准区总工会", parent=city, code="101", commit=False)
    org_units = []
    for b in range(10):
        base = create_org(session, name=f"基准第{b}基层工会", parent=county, commit=False)
        for u in range(5):
            unit = Unit(org_id=base.id, name=f"基准单位{b}-{u}")
            session.add(unit)
            session.flush()
            org_units.append((base, unit))
    session.commit()
    return county, org_units


def write_file(path, n, org_units):
    from app.services.member_import import COLUMNS
    from app.xlsx.writer import header_title

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("会员信息采集表")
    sheet.write_row(0, 0, [header_title(c) for c in COLUMNS])
    ids = [(o.id, u.id) for o, u in org_units]
    union_names = {o.id: o.name for o, _ in org_units}
    unit_names = {u.id: u.name for _, u in org_units}
    for i, row in enumerate(member_rows(0, n, ids), start=1):
        number = row["id_number"] if i % BAD_EVERY else row["id_number"][:-1] + "0"
        sheet.write_row(i, 0, [row["name"], "居民身份证", number, LABELS[row["gender"]], "", row["phone"], "否", "职员",
                               "2020-01-02", union_names[row["org_id"]], unit_names[row["unit_id"]], "在会", ""])
    book.close()


def run_ours(app, path) -> float:
    from app.testing import IsolatedClient

    client = IsolatedClient(app, app.response_class)  # each request loads its user, as in production
    client.post("/login/", data={"username": "bench_admin", "password": "Bench@2026pass"})
    start = time.perf_counter()
    with open(path, "rb") as fh:
        response = client.post("/datajobview/upload", data={"kind": "members", "file": (fh, path.name)},
                               content_type="multipart/form-data")
    seconds = time.perf_counter() - start
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return seconds


def run_naive(session, path, org_units) -> float:
    """openpyxl read-only + one validated ORM object per row: what a first version does."""
    import openpyxl

    from app.services import members
    from app.services.errors import MemberInvalidError
    from models.members import Member

    orgs = {o.name: o.id for o, _ in org_units}
    units = {u.name: u.id for _, u in org_units}
    start = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    next(rows)
    for row in rows:
        member = Member(name=row[0], id_number=row[2], phone=row[5], org_id=orgs[row[9]], unit_id=units[row[10]])
        try:
            members.validate_member(session, member)
        except MemberInvalidError:
            continue
        session.add(member)
        session.flush()
        members.assign_member_no(session, member)
    session.commit()
    return time.perf_counter() - start


def run_floor(session, path, org_units) -> float:
    """The least any import can do: calamine read + one bulk insert of the same rows (no checks)."""
    from app.database import fast_insert
    from app.xlsx.reader import read_rows
    from models.base import utcnow
    from models.members import Member

    orgs = {o.name: o.id for o, _ in org_units}
    units = {u.name: u.id for _, u in org_units}
    now = utcnow()
    start = time.perf_counter()
    rows = read_rows(path)
    next(rows)
    records = [{"member_no": f"9{i:09d}", "name": r[0], "id_type": "resident", "id_number": r[2], "phone": str(r[5]),
                "org_id": orgs[r[9]], "unit_id": units[r[10]], "status": "active", "cert_status": "unverified",
                "migrant_worker": False, "created_at": now, "updated_at": now}
               for i, r in enumerate(rows)]
    fast_insert(session, Member.__table__, records)
    session.commit()
    return time.perf_counter() - start


def main(n: int = 100_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import audit
    from models.members import Member

    url = fresh_database_url("import_members")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "CELERY_TASK_ALWAYS_EAGER": True, "FILE_DIR": str(OUT / "files"),
                      "IMPORT_MAX_BYTES": 1024 * 1024 * 1024})
    app.extensions["celery"].conf.task_always_eager = True
    path = OUT / f"members_{n}.xlsx"
    with app.app_context():
        init_db()
        county, org_units = build_tree(db.session)
        sm = app.appbuilder.sm
        user = sm.add_user("bench_admin", "基准", "管理员", "bench@bench.invalid", sm.find_role("区县工会管理员"),
                           password="Bench@2026pass")
        user.org_id = county.id
        db.session.commit()
        if not path.exists():
            write_file(path, n, org_units)
        seconds = run_ours(app, path)
        rss = peak_rss_mb()
        from models.imports import DataJob

        job = db.session.scalar(select(DataJob).order_by(DataJob.id.desc()))
        db.session.refresh(job)
        assert job.ok_rows + job.error_rows == n and job.result_name, (job.status, job.message)
        print(f"ours: {job.status} ok={job.ok_rows} errors={job.error_rows} in {seconds:.2f}s", file=sys.stderr)
        baseline = ratio = None
        if n <= 100_000:
            db.session.execute(delete(Member))
            db.session.commit()
            with audit.suspended():
                baseline = run_naive(db.session, path, org_units)
            assert db.session.scalar(select(func.count(Member.id))) == job.ok_rows
            ratio = baseline / seconds
        db.session.execute(delete(Member))
        db.session.commit()
        floor = run_floor(db.session, path, org_units)
    tail = f" baseline_seconds={baseline:.2f} ratio={ratio:.1f}" if baseline else " baseline_seconds=skipped ratio=skipped"
    print(f"rows={n} seconds={seconds:.2f} rows_per_s={n / seconds:.0f} peak_rss_mb={rss:.0f}{tail} "
          f"floor_seconds={floor:.2f} floor_ratio={seconds / floor:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
