"""Four member imports at once through the production worker: prefork, two children, Redis.

python bench/concurrent_imports.py [N] [FILES]   (default 100000 rows × 4 files; DATABASE_URL chooses
the database, PostgreSQL for the production shape; a private redis-server is started on a free port)
Last line: rows=… seconds=… lost=0 duplicated=0 stuck=0
  seconds     first job sent → last job finished
  lost        rows of the files missing from the member table
  duplicated  rows counted twice by the jobs (created + updated beyond the file's rows)
  stuck       jobs not finished when the bench gave up (BENCH_TIMEOUT, 900 s)
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench._data import OUT, fresh_database_url, member_rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LABELS = {"male": "男", "female": "女"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_tree(session):
    from app.services.organizations import create_org
    from models.organizations import Unit

    city = create_org(session, name="并发基准市总工会", parent=None, code="310", commit=False)
    county = create_org(session, name="并发基准区总工会", parent=city, code="102", commit=False)
    org_units = []
    for b in range(8):
        base = create_org(session, name=f"并发基准第{b}基层工会", parent=county, commit=False)
        unit = Unit(org_id=base.id, name=f"并发基准单位{b}")
        session.add(unit)
        session.flush()
        org_units.append((base, unit))
    session.commit()
    return county, org_units


def write_file(path, start, n, org_units):
    from app.services.member_import import COLUMNS
    from app.xlsx.writer import header_title

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("会员信息采集表")
    sheet.write_row(0, 0, [header_title(c) for c in COLUMNS])
    unions = {o.id: o.name for o, _ in org_units}
    units = {u.id: u.name for _, u in org_units}
    numbers = []
    for i, row in enumerate(member_rows(start, n, [(o.id, u.id) for o, u in org_units]), start=1):
        sheet.write_row(i, 0, [row["name"], "居民身份证", row["id_number"], LABELS[row["gender"]], "", row["phone"],
                               "否", "职员", "2020-01-02", unions[row["org_id"]], units[row["unit_id"]], "在会", ""])
        numbers.append(row["id_number"])
    book.close()
    return numbers


def main(n: int = 100_000, files: int = 4) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import imports, jobs
    from models.imports import TERMINAL, DataJob, JobStatus
    from models.members import Member
    from models.security import AppUser

    url = fresh_database_url("concurrent_imports")
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/7"
    file_dir = OUT / "files_concurrent"
    config = {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "CELERY_BROKER_URL": broker,
              "FILE_DIR": str(file_dir), "IMPORT_MAX_BYTES": 1024 * 1024 * 1024, "RATELIMIT_ENABLED": False}
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker, "FILE_DIR": str(file_dir),
           "APP_ENV": "testing", "IMPORT_MAX_BYTES": str(1024 * 1024 * 1024), "RATELIMIT_ENABLED": "0"}
    worker = None
    try:
        app = create_app(config)
        # the worker is a separate process: it needs this process's key (a test config in code gets a
        # random one; without it the worker refuses to start and every job waits)
        env["SECRET_KEY"] = app.config["SECRET_KEY"]
        with app.app_context():
            init_db()
            county, org_units = build_tree(db.session)
            sm = app.appbuilder.sm
            user = sm.add_user("bench_admin", "基准", "管理员", "bench@bench.invalid",
                               sm.find_role("区县工会管理员"), password="Bench@2026pass")
            user.org_id = county.id
            db.session.commit()
            expected = []
            paths = []
            for k in range(files):
                path = OUT / f"concurrent_{n}_{k}.xlsx"
                expected += write_file(path, k * n, n, org_units)
                paths.append(path)
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--pool=prefork", "-c", "2",
                 "--without-gossip", "--without-mingle", "-l", "warning"],
                cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                stderr=(OUT / "concurrent_worker.log").open("wb"))
            time.sleep(8)  # the worker is up before the clock starts
            actor = db.session.scalar(select(AppUser).where(AppUser.username == "bench_admin"))
            submitted = []
            for path in paths:
                with open(path, "rb") as fh:
                    submitted.append(imports.submit_import(db.session, actor=actor, kind_key="members",
                                                           file_name=path.name, stream=fh))
            ids = [job.id for job in submitted]
            start = time.perf_counter()
            for job in submitted:
                assert jobs.enqueue(db.session, job), "broker unreachable"
            deadline = time.time() + int(os.environ.get("BENCH_TIMEOUT", "900"))
            while time.time() < deadline:
                assert worker.poll() is None, f"the worker exited, see {OUT / 'concurrent_worker.log'}"
                db.session.expire_all()
                states = db.session.scalars(select(DataJob.status).where(DataJob.id.in_(ids))).all()
                if all(s in TERMINAL for s in states):
                    break
                time.sleep(0.5)
            seconds = time.perf_counter() - start
            done = db.session.scalars(select(DataJob).where(DataJob.id.in_(ids))).all()
            stuck = sum(1 for j in done if j.status not in TERMINAL)
            present = db.session.scalar(select(func.count(Member.id)).where(Member.org_id.in_(
                [o.id for o, _ in org_units])))
            counted = sum(j.created_rows + j.updated_rows for j in done)
            for job in done:
                print(f"job {job.id}: {job.status_label} created={job.created_rows} updated={job.updated_rows} "
                      f"errors={job.error_rows} attempts={job.attempts} {job.message or ''}", file=sys.stderr)
            failed = [j for j in done if j.status != JobStatus.SUCCEEDED]
            assert not failed or stuck, [j.message for j in failed]
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        redis.kill()
        redis.wait()
    rows = len(expected)
    print(f"rows={rows} seconds={seconds:.2f} lost={rows - present} duplicated={max(0, counted - rows)} stuck={stuck}")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:3]])
