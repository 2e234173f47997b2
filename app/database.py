"""Database helpers shared by the tests and the benches."""
from __future__ import annotations

from sqlalchemy import ARRAY, String, any_, bindparam, create_engine, insert, literal, text


def reset_postgres_schema(url: str) -> str:
    """Drop and recreate the ``public`` schema of a PostgreSQL database (tests, benches only)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def sibling_database_url(url: str, suffix: str) -> str:
    """A PostgreSQL database beside ``url``'s, named ``<database>_<suffix>``, created when missing
    (a bench's second size, a parallel test worker's own database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{suffix}"
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def fast_insert(session, table, rows: list[dict]) -> None:
    """INSERT many rows through the driver's executemany, skipping SQLAlchemy's per-row
    parameter processing (the bulk import's hot path). Rows carry every value, defaults
    included; values must be driver-native (str, int, bool, date, datetime)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    # a column added later with a constant default (a new flag) need not be known to every caller
    extra = {c.name: c.default.arg for c in table.c
             if c.name not in rows[0] and c.default is not None and c.default.is_scalar}
    if extra:
        rows = [{**extra, **r} for r in rows]
    columns = list(rows[0])
    compiled = insert(table).values({c: bindparam(c) for c in columns}).compile(dialect=dialect)
    # the column types' own conversions (UTC datetimes, SQLite dates), column by column and
    # memoized: dates and timestamps repeat a lot within a batch
    for column in columns:
        process = table.c[column].type._cached_bind_processor(dialect)
        if process is None:
            continue
        memo: dict = {None: None}
        for row in rows:
            value = row[column]
            if value not in memo:
                memo[value] = process(value)
            row[column] = memo[value]
    connection = session.connection()
    if dialect.name == "postgresql":
        # COPY: several times faster than INSERT for large batches
        names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    params = [tuple(r[c] for c in compiled.positiontup) for r in rows] if compiled.positional else rows
    connection.exec_driver_sql(str(compiled), params)


def in_many(session, column, values: list):
    """``column IN values`` for thousands of values: one array parameter on PostgreSQL
    (``= ANY(:array)``) instead of thousands of bind parameters."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(String)))
    return column.in_(values)
