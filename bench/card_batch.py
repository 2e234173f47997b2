"""A card batch end to end: the 工会会员信息汇总表 import (pre-validation, member upsert and numbers)
→ submit → receive (交接, coverage registration) → 批量开户汇总表 xlsx + PDF.

python bench/card_batch.py [N]   (default 20000; DATABASE_URL chooses the database, else SQLite)
Last line: members=… seconds=… (target ≤ 20 s); the stages go to stderr.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402

from bench._data import OUT, fresh_database_url, member_rows, peak_rss_mb  # noqa: E402

LABELS = {"male": "男", "female": "女"}


def build(session, sm):
    from app.services.organizations import create_org

    city = create_org(session, name="基准市总工会", parent=None, code="310", commit=False)
    county = create_org(session, name="基准区总工会", parent=city, code="101", commit=False)
    base = create_org(session, name="基准基层工会", parent=county, commit=False)
    session.commit()
    clerk = sm.add_user("bench_clerk", "基准", "经办", "clerk@bench.invalid", sm.find_role("基层工会管理员"),
                        password="Bench@2026pass")
    admin = sm.add_user("bench_county", "基准", "区县", "county@bench.invalid", sm.find_role("区县工会管理员"),
                        password="Bench@2026pass")
    clerk.org_id, admin.org_id = base.id, county.id
    session.commit()
    return base, clerk, admin


def write_file(path, n, base_id):
    from app.services.service_cards.applications import COLUMNS
    from app.xlsx.writer import header_title

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("工会会员信息汇总表")
    sheet.write_row(0, 0, [header_title(c) for c in COLUMNS])
    keys = [c.key for c in COLUMNS]
    for i, row in enumerate(member_rows(0, n, [(base_id, None)]), start=1):
        values = {"name": row["name"], "id_type": "居民身份证", "id_number": row["id_number"],
                  "gender": LABELS[row["gender"]], "phone": row["phone"], "address": "上海市某路1号",
                  "migrant_worker": "否", "position": "职员", "join_date": "2020-01-02"}
        sheet.write_row(i, 0, [values.get(k, "") for k in keys])
    book.close()


def main(n: int = 20_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import imports
    from app.services.service_cards import applications, batches

    url = fresh_database_url("card_batch")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "CELERY_TASK_ALWAYS_EAGER": True, "FILE_DIR": str(OUT / "files"),
                      "IMPORT_MAX_BYTES": 1024 * 1024 * 1024})
    path = OUT / f"card_batch_{n}.xlsx"
    stages = []
    with app.app_context():
        init_db()
        base, clerk, admin = build(db.session, app.appbuilder.sm)
        write_file(path, n, base.id)
        start = time.perf_counter()

        def stage(name):
            stages.append((name, time.perf_counter()))

        batch = batches.create_batch(db.session, actor=clerk, contact="王芳", phone="13912345678")
        with open(path, "rb") as fh:
            job = applications.submit_file(db.session, batch.id, kind="card_application", actor=clerk,
                                           file_name=path.name, stream=fh)
        job = imports.run_import(db.session, job.id)
        assert job.ok_rows == n, (job.status, job.message, job.error_rows)
        stage("import")
        batches.update_summary(db.session, batch.id, actor=clerk, id_copies_received=True)
        batches.submit_batch(db.session, batch.id, actor=clerk)
        stage("submit")
        batches.receive_batch(db.session, batch.id, actor=admin, counted=n, remark="基准交接")
        stage("receive")
        out = OUT / "card_batch_summary.xlsx"
        assert batches.summary_xlsx(db.session, batch, out, actor=admin) == n
        stage("summary_xlsx")
        pdf = batches.summary_pdf(db.session, batch, actor=admin)
        (OUT / "card_batch_summary.pdf").write_bytes(pdf)
        stage("summary_pdf")
        seconds = time.perf_counter() - start
        batches.hand_over_to_bank(db.session, batch.id, actor=admin)
        stage("hand_over (not timed)")
    previous = start
    for name, at in stages:
        print(f"{name}: {at - previous:.2f}s", file=sys.stderr)
        previous = at
    print(f"pdf_bytes={len(pdf)} peak_rss_mb={peak_rss_mb():.0f} database={url.split(':')[0]}", file=sys.stderr)
    print(f"members={n} seconds={seconds:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
