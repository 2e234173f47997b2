"""生成券码: 100,000 vouchers generated and stored for one approved activity (each with its frozen
face value and expiry time; target ≤ 3 s).

python bench/generate_codes.py [N]   (DATABASE_URL chooses the database; default SQLite)
Last line: codes=… seconds=… duplicates=0
"""
from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench._data import fresh_database_url  # noqa: E402


def main(n: int = 100_000) -> None:
    from app import create_app
    from app.cli import init_db
    from app.extensions import db
    from app.services import vouchers
    from app.services.organizations import create_org
    from models.base import utcnow
    from models.vouchers import Activity, ActivityStatus, Coupon, Merchant, Prize, Voucher

    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": fresh_database_url("generate_codes")})
    with app.app_context():
        init_db()
        city = create_org(db.session, name="基准市总工会", parent=None, code="310")
        merchant = Merchant(org_id=city.id, name="基准商家")
        db.session.add(merchant)
        db.session.flush()
        coupon = Coupon(merchant_id=merchant.id, org_id=city.id, title="券", name="券", quantity=n, allocated=n,
                        valid_from=utcnow(), valid_to=utcnow() + timedelta(days=30),
                        face_value=vouchers.money(10), enabled=True)
        activity = Activity(org_id=city.id, title="基准活动", start_at=utcnow() + timedelta(days=1),
                            end_at=utcnow() + timedelta(days=2), status=ActivityStatus.APPROVED)
        db.session.add_all([coupon, activity])
        db.session.flush()
        db.session.add(Prize(activity_id=activity.id, coupon_id=coupon.id, quantity=n))
        db.session.commit()
        start = time.perf_counter()
        count = vouchers.generate_vouchers(db.session, activity.id)
        seconds = time.perf_counter() - start
        stored = db.session.scalar(select(func.count(Voucher.id)))
        distinct = db.session.scalar(select(func.count(func.distinct(Voucher.code))))
        assert count == stored == n
    print(f"codes={n} seconds={seconds:.2f} duplicates={stored - distinct}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
