"""Daily capacity: one counter row per product and date, taken with a conditional UPDATE.

``apply_deltas`` changes several counters in one transaction in (product, date) order (so two
declarers never wait on each other in a cycle); a positive change succeeds only while
``reserved + q <= capacity`` holds, which PostgreSQL re-checks after waiting on a concurrent
writer's row lock. A refused change raises and the caller rolls the whole transaction back, so a
modification never loses the member's old bookings.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from models.base import UTCDateTime, utcnow
from models.recuperation import Product, ProductDay, Reservation


class SoldOutError(DomainError):
    code = "sold_out"


def _insert_ignore(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(ProductDay.__table__)


def ensure_counters(session: Session, keys, products: dict[int, Product]) -> None:
    """Counter rows for ``(product_id, day)`` keys that have none yet (concurrent inserts are harmless)."""
    rows = [{"product_id": pid, "day": day, "base_id": products[pid].base_id, "org_id": products[pid].org_id,
             "capacity": products[pid].daily_capacity, "reserved": 0} for pid, day in sorted(set(keys))]
    if rows:
        session.execute(_insert_ignore(session).on_conflict_do_nothing(index_elements=["product_id", "day"]), rows)


def check_available(deltas: dict[tuple[int, date], int], products: dict[int, Product],
                    left: dict[tuple[int, date], int]) -> None:
    """The increases of ``deltas`` fit ``left`` (what was free when the plan's products were read,
    no lock): a plan asking for a day already sold out is refused before it writes anything.

    Raises:
        SoldOutError: as ``apply_deltas`` would.
    """
    wanted = {key: q for key, q in deltas.items() if q > 0}
    for (pid, day), q in sorted(wanted.items()):
        free = left.get((pid, day), products[pid].daily_capacity)
        if q > free:
            raise _sold_out_error(products[pid], day, q, free)


def apply_deltas(session: Session, deltas: dict[tuple[int, date], int], products: dict[int, Product]) -> None:
    """Add ``deltas[(product_id, day)]`` to each counter (negative: release).

    Raises:
        SoldOutError: a positive change would exceed the day's capacity (the caller rolls back).
    """
    changes = {key: q for key, q in deltas.items() if q}
    if changes and all(q > 0 for q in changes.values()):
        _take(session, changes, products)
        return
    ensure_counters(session, [k for k, q in changes.items() if q > 0], products)
    for (pid, day), q in sorted(changes.items()):
        stmt = update(ProductDay).where(ProductDay.product_id == pid, ProductDay.day == day)
        if q > 0:
            stmt = stmt.where(ProductDay.reserved + q <= ProductDay.capacity)
        else:
            stmt = stmt.where(ProductDay.reserved + q >= 0)
        done = session.execute(stmt.values(reserved=ProductDay.reserved + q).execution_options(
            synchronize_session=False)).rowcount
        if done != 1 and q > 0:
            _sold_out(session, pid, day, q, products)


# PostgreSQL: a first plan's reservation rows and its counters in one statement (one round trip);
# fixed SQL over arrays, so it is prepared once per connection. The counters go in (product, day)
# order (WITH ORDINALITY … ORDER BY), as ``_take``'s rows do.
_BOOK_PG = text("""
    WITH booked AS (
        INSERT INTO recup_reservation (product_id, base_id, org_id, day, quantity, price, declaration_id,
                                       member_name, member_phone, version, status, created_at)
        SELECT r.product_id, r.base_id, r.org_id, r.day, r.quantity, r.price, :declaration_id,
               :member_name, :member_phone, :version, :status, :now
        FROM unnest(CAST(:r_product AS integer[]), CAST(:r_base AS integer[]), CAST(:r_org AS integer[]),
                    CAST(:r_day AS date[]), CAST(:r_quantity AS integer[]), CAST(:r_price AS numeric[]))
             AS r(product_id, base_id, org_id, day, quantity, price)
    )
    INSERT INTO recup_product_day (product_id, day, base_id, org_id, capacity, reserved)
    SELECT c.product_id, c.day, c.base_id, c.org_id, c.capacity, c.reserved
    FROM unnest(CAST(:c_product AS integer[]), CAST(:c_day AS date[]), CAST(:c_base AS integer[]),
                CAST(:c_org AS integer[]), CAST(:c_capacity AS integer[]), CAST(:c_reserved AS integer[]))
         WITH ORDINALITY AS c(product_id, day, base_id, org_id, capacity, reserved, n)
    ORDER BY c.n
    ON CONFLICT (product_id, day) DO UPDATE SET reserved = recup_product_day.reserved + excluded.reserved
    WHERE recup_product_day.reserved + excluded.reserved <= recup_product_day.capacity
    RETURNING product_id, day
""").bindparams(bindparam("now", type_=UTCDateTime()))


def book(session: Session, rows: list[dict], products: dict[int, Product]) -> None:
    """A plan's first bookings: its reservation rows (every column of ``Reservation`` but the id and
    times; one declaration's) and the counters they raise, in one transaction; on PostgreSQL in one
    statement.

    Raises:
        SoldOutError: some day has not enough left (the caller rolls back: nothing is kept).
    """
    changes: dict[tuple[int, date], int] = {}
    for row in rows:
        key = (row["product_id"], row["day"])
        changes[key] = changes.get(key, 0) + row["quantity"]
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(Reservation.__table__), rows)
        _take(session, changes, products)
        return
    keys = sorted(changes)
    _refuse_beyond_capacity(session, changes, products)
    plan = rows[0]
    taken = set(session.execute(_BOOK_PG, {
        **{k: plan[k] for k in ("declaration_id", "member_name", "member_phone", "version", "status")},
        "now": utcnow(), **{f"r_{col}": [row[key] for row in rows] for col, key in (
            ("product", "product_id"), ("base", "base_id"), ("org", "org_id"), ("day", "day"),
            ("quantity", "quantity"), ("price", "price"))},
        "c_product": [pid for pid, _d in keys], "c_day": [d for _p, d in keys],
        "c_base": [products[pid].base_id for pid, _d in keys], "c_org": [products[pid].org_id for pid, _d in keys],
        "c_capacity": [products[pid].daily_capacity for pid, _d in keys],
        "c_reserved": [changes[key] for key in keys]}).tuples())
    _refuse_missing(session, keys, taken, changes, products)


def _refuse_beyond_capacity(session: Session, changes, products) -> None:
    for (pid, day), q in sorted(changes.items()):
        if q > products[pid].daily_capacity:
            _sold_out(session, pid, day, q, products)


def _refuse_missing(session, keys, taken, changes, products) -> None:
    """A key the upsert did not return was refused by its condition."""
    for pid, day in keys:
        if (pid, day) not in taken:
            _sold_out(session, pid, day, changes[(pid, day)], products)


def _take(session: Session, changes: dict[tuple[int, date], int], products: dict[int, Product]) -> None:
    """Bookings only (a first submit): every counter in one statement, created or raised.

    ``INSERT … ON CONFLICT DO UPDATE … WHERE reserved + q <= capacity RETURNING``: a new counter is
    inserted holding ``q``; an existing one is raised only while the condition holds, which
    PostgreSQL evaluates on the row's latest version once it holds its lock. The rows go in (product,
    day) order, so concurrent declarers lock them in one order. A key missing from what comes back
    was refused."""
    keys = sorted(changes)
    _refuse_beyond_capacity(session, changes, products)
    rows = [{"product_id": pid, "day": day, "base_id": products[pid].base_id, "org_id": products[pid].org_id,
             "capacity": products[pid].daily_capacity, "reserved": changes[(pid, day)]} for pid, day in keys]
    taken = set(session.execute(_take_statement(session), rows).tuples())
    _refuse_missing(session, keys, taken, changes, products)


_TAKE: dict = {}


def _take_statement(session: Session):
    """The upsert for an executemany (one multi-row statement on the wire, built once per dialect)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _TAKE:
        stmt = _insert_ignore(session)
        _TAKE[dialect] = stmt.on_conflict_do_update(
            index_elements=["product_id", "day"], set_={"reserved": ProductDay.reserved + stmt.excluded.reserved},
            where=ProductDay.reserved + stmt.excluded.reserved <= ProductDay.capacity,
        ).returning(ProductDay.__table__.c.product_id, ProductDay.__table__.c.day)
    return _TAKE[dialect]


def _sold_out(session: Session, pid: int, day: date, q: int, products: dict[int, Product]):
    left = session.scalar(select(ProductDay.capacity - ProductDay.reserved)
                          .where(ProductDay.product_id == pid, ProductDay.day == day))
    raise _sold_out_error(products[pid], day, q, products[pid].daily_capacity if left is None else left)


def _sold_out_error(product: Product, day: date, q: int, left: int) -> SoldOutError:
    return SoldOutError(f"「{product.name}」{day.isoformat()} 剩余数量不足（剩余 {max(left, 0)}，需要 {q}）", field="days")


def remaining(session: Session, product: Product, day: date) -> int:
    """How many of ``product`` are still free on ``day``."""
    reserved = session.scalar(select(ProductDay.reserved).where(ProductDay.product_id == product.id,
                                                                ProductDay.day == day)) or 0
    return max(product.daily_capacity - reserved, 0)


def resize_capacity(session: Session, product: Product) -> None:
    """Keep the counters in step with an edited daily capacity.

    Raises:
        DomainError: some day already holds more reservations than the new capacity.
    """
    if product.id is None:
        return
    over = session.execute(select(ProductDay.day, ProductDay.reserved).where(
        ProductDay.product_id == product.id, ProductDay.reserved > product.daily_capacity)
        .order_by(ProductDay.day).limit(1)).first()
    if over is not None:
        raise DomainError(f"{over.day.isoformat()} 已预约 {over.reserved}，每日限量不能低于已预约数量",
                          field="daily_capacity")
    session.execute(update(ProductDay).where(ProductDay.product_id == product.id)
                    .values(capacity=product.daily_capacity).execution_options(synchronize_session=False))
