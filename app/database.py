"""Database helpers shared by the tests and the benches."""
from __future__ import annotations

from sqlalchemy import create_engine, text


def reset_postgres_schema(url: str) -> str:
    """Drop and recreate the ``public`` schema of a PostgreSQL database (tests, benches only)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url
