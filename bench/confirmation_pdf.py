"""确认书 PDF of an enrollment with 5,000 persons, the person list as annex.

python bench/confirmation_pdf.py [N]   (default 5000; DATABASE_URL chooses the database)
Last line: persons=… seconds=… pages=… bytes=…   (target: seconds ≤ 3)
"""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import OUT, fresh_database_url  # noqa: E402
from bench._mutual_aid import enrollment_setup, person_ids  # noqa: E402


def main(n: int = 5000) -> None:
    from datetime import timedelta

    from pypdf import PdfReader

    from app import create_app
    from app.cli import init_db
    from app.database import fast_insert
    from app.extensions import db
    from app.services.mutual_aid.letters import letter_document
    from models.base import utcnow
    from models.mutual_aid import EnrollmentStatus, InsuredPerson
    from seed.generators import GIVEN, SURNAMES

    url = fresh_database_url("confirmation_pdf")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "FILE_DIR": str(OUT / "files"),
                      "CELERY_TASK_ALWAYS_EAGER": True})
    with app.app_context():
        init_db()
        enrollment, _handler = enrollment_setup(app, db.session)
        line = enrollment.plans[0]
        today = utcnow().date()
        fast_insert(db.session, InsuredPerson.__table__, [
            {"enrollment_plan_id": line.id, "enrollment_id": enrollment.id, "plan_id": line.plan_id,
             "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + GIVEN[(i // 3) % len(GIVEN)],
             "id_type": "resident", "id_number": number, "mobile": f"139{i:08d}",
             "risk_group": "high" if i % 5 == 0 else "normal", "status": "active", "coverage_start": today,
             "coverage_end": today + timedelta(days=364), "created_at": utcnow()}
            for i, number in enumerate(person_ids(n))])
        enrollment.status, enrollment.coverage_start = EnrollmentStatus.EFFECTIVE, today
        enrollment.coverage_end, enrollment.paid_on = today + timedelta(days=364), today
        enrollment.staff_count, enrollment.female_staff_count = n, n // 2
        db.session.commit()
        start = time.perf_counter()
        data = letter_document(db.session, enrollment, 1).render()
        seconds = time.perf_counter() - start
    pages = len(PdfReader(io.BytesIO(data)).pages)
    print(f"persons={n} seconds={seconds:.2f} pages={pages} bytes={len(data)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
