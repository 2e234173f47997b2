"""Shared bench helpers: a fresh database and bulk member generation through Core."""
from __future__ import annotations

import os
import random
import resource
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert

from app.database import reset_postgres_schema, sibling_database_url

OUT = Path(__file__).resolve().parent / "out"


def fresh_database_url(name: str, sibling: str = "") -> str:
    """DATABASE_URL (its public schema is dropped and recreated) or a new SQLite file.

    ``sibling``: a second database beside it (PostgreSQL: ``<database>_<sibling>``, created when
    missing), for a bench that compares two sizes side by side in the same run."""
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith("postgresql"):
        if sibling:
            url = sibling_database_url(url, sibling)
        return reset_postgres_schema(url)
    if sibling:
        name = f"{name}_{sibling}"
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def member_rows(start: int, count: int, org_units: list[tuple[int, int]], seed: int = 1):
    """Yield dict rows for the member table: valid resident IDs, unique by construction."""
    from app.validators import resident_id_check_char
    from seed.generators import GIVEN, SURNAMES

    rng = random.Random(seed + start)
    base = date(1960, 1, 1)
    for i in range(start, start + count):
        org_id, unit_id = org_units[i % len(org_units)]
        birth = base + timedelta(days=i % 16000)
        # area code + birth date + a sequence from i: unique for i < 16000 * 1000 * 5
        seq = (i // 16000) % 1000
        area = 310101 + (i // 16_000_000)
        first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if i % 2 else "")
        yield {
            "member_no": f"{101 + i % 3:03d}{i % 10_000_000:07d}", "name": name,
            "phone": f"13{i % 10}{i:08d}"[:11], "id_type": "resident",
            "id_number": first17 + resident_id_check_char(first17),
            "gender": "male" if int(first17[16]) % 2 else "female", "birth_date": birth,
            "migrant_worker": False, "org_id": org_id, "unit_id": unit_id, "status": "active",
            "cert_status": "unverified",
        }


def bulk_insert(engine, table, rows, batch: int = 20_000) -> int:
    n = 0
    chunk = []
    with engine.begin() as conn:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                conn.execute(insert(table), chunk)
                n += len(chunk)
                chunk.clear()
        if chunk:
            conn.execute(insert(table), chunk)
            n += len(chunk)
    return n
