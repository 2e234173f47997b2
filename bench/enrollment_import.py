"""参保人员清单导入 end to end: a 50,000-person list into one enrollment plan, against the naive
openpyxl + ORM baseline and the floor (calamine read + one bulk insert of the same rows), same run.

python bench/enrollment_import.py [N]   (default 50000; DATABASE_URL chooses the database)
Last line: rows=… seconds=… baseline_seconds=… floor_seconds=… ratio=… floor_ratio=…
(ratio = baseline / ours, target ≥ 8; floor_ratio = ours / floor, target ≤ 2.5)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from bench._data import OUT, fresh_database_url  # noqa: E402
from bench._mutual_aid import PASSWORD, enrollment_setup, person_ids  # noqa: E402

BAD_EVERY = 500  # one row in 500 is wrong, so the result file (导入失败人员) is written too


def write_file(path, n):
    from app.services.mutual_aid.persons import COLUMNS
    from app.xlsx.writer import header_title
    from seed.generators import GIVEN, SURNAMES

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("参保人员清单")
    sheet.write_row(0, 0, [header_title(c) for c in COLUMNS])
    for i, number in enumerate(person_ids(n), start=1):
        if i % BAD_EVERY == 0:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)]
        sheet.write_row(i, 0, [i, name, "居民身份证", number, f"139{i:08d}", "高危" if i % 5 == 0 else "普通",
                               "", "", "城镇职工", "", ""])
    book.close()


def run_ours(app, path, enrollment) -> float:
    from app.testing import IsolatedClient

    client = IsolatedClient(app, app.response_class)  # each request loads its user, as in production
    client.post("/login/", data={"username": enrollment.member_unit.username, "password": PASSWORD})
    line = enrollment.plans[0]
    start = time.perf_counter()
    with open(path, "rb") as fh:
        response = client.post(f"/enrollmentview/upload/{enrollment.id}/{line.id}",
                               data={"file": (fh, path.name)}, content_type="multipart/form-data")
    seconds = time.perf_counter() - start
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return seconds


def run_naive(session, path, enrollment) -> float:
    """openpyxl read-only, every row validated, looked up (upsert) and added as an ORM object."""
    import openpyxl

    from app.validators import ValidationError, parse_resident_id, validate_chinese_name, validate_mobile
    from models.mutual_aid import InsuredPerson

    line = enrollment.plans[0]
    start = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    next(rows)
    for row in rows:
        try:
            rid = parse_resident_id(row[3])
            name, mobile = validate_chinese_name(row[1]), validate_mobile(str(row[4]))
        except ValidationError:
            continue
        existing = session.scalar(select(InsuredPerson).where(InsuredPerson.enrollment_plan_id == line.id,
                                                              InsuredPerson.id_number == rid.number))
        if existing is None:
            session.add(InsuredPerson(enrollment_plan_id=line.id, enrollment_id=enrollment.id, plan_id=line.plan_id,
                                      name=name, id_number=rid.number, mobile=mobile, gender=rid.gender,
                                      birth_date=rid.birth_date, risk_group="high" if row[5] == "高危" else "normal"))
            session.flush()
    session.commit()
    return time.perf_counter() - start


def run_floor(session, path, enrollment) -> float:
    """The least any import can do: calamine read + one bulk insert of the same rows (no checks)."""
    from app.database import fast_insert
    from app.xlsx.reader import read_rows
    from models.base import utcnow
    from models.mutual_aid import InsuredPerson

    line = enrollment.plans[0]
    now = utcnow()
    start = time.perf_counter()
    rows = read_rows(path)
    next(rows)
    records = [{"enrollment_plan_id": line.id, "enrollment_id": enrollment.id, "plan_id": line.plan_id,
                "name": r[1], "id_type": "resident", "id_number": r[3], "mobile": str(r[4]),
                "risk_group": "high" if r[5] == "高危" else "normal", "status": "active", "created_at": now}
               for r in rows]
    fast_insert(session, InsuredPerson.__table__, records)
    session.commit()
    return time.perf_counter() - start


def main(n: int = 50_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import audit
    from models.imports import DataJob
    from models.mutual_aid import InsuredPerson

    url = fresh_database_url("enrollment_import")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "CELERY_TASK_ALWAYS_EAGER": True, "FILE_DIR": str(OUT / "files"),
                      "IMPORT_MAX_BYTES": 1024 * 1024 * 1024})
    app.extensions["celery"].conf.task_always_eager = True
    path = OUT / f"persons_{n}.xlsx"
    with app.app_context():
        init_db()
        enrollment, _handler = enrollment_setup(app, db.session)
        if not path.exists():
            write_file(path, n)
        seconds = run_ours(app, path, enrollment)
        job = db.session.scalar(select(DataJob).order_by(DataJob.id.desc()))
        db.session.refresh(job)
        assert job.ok_rows + job.error_rows == n and job.result_name, (job.status, job.message)
        ok = job.ok_rows
        print(f"ours: {job.status_label} ok={ok} errors={job.error_rows} in {seconds:.2f}s", file=sys.stderr)

        def clear():
            db.session.execute(delete(InsuredPerson))
            db.session.commit()

        clear()
        with audit.suspended():
            baseline = run_naive(db.session, path, enrollment)
        assert db.session.scalar(select(func.count(InsuredPerson.id))) == ok
        clear()
        floor = run_floor(db.session, path, enrollment)
    print(f"rows={n} seconds={seconds:.2f} baseline_seconds={baseline:.2f} floor_seconds={floor:.2f} "
          f"ratio={baseline / seconds:.1f} floor_ratio={seconds / floor:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
