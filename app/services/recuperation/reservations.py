"""Daily capacity: one counter row per product and date, taken with a conditional UPDATE.

``apply_deltas`` changes several counters in one transaction in (product, date) order (so two
declarers never wait on each other in a cycle); a positive change succeeds only while
``reserved + q <= capacity`` holds, which PostgreSQL re-checks after waiting on a concurrent
writer's row lock. A refused change raises and the caller rolls the whole transaction back, so a
modification never loses the member's old bookings.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from models.recuperation import Product, ProductDay


class SoldOutError(DomainError):
    code = "sold_out"


def _insert_ignore(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(ProductDay)


def ensure_counters(session: Session, keys, products: dict[int, Product]) -> None:
    """Counter rows for ``(product_id, day)`` keys that have none yet (concurrent inserts are harmless)."""
    rows = [{"product_id": pid, "day": day, "base_id": products[pid].base_id, "org_id": products[pid].org_id,
             "capacity": products[pid].daily_capacity, "reserved": 0} for pid, day in sorted(set(keys))]
    if rows:
        session.execute(_insert_ignore(session).values(rows).on_conflict_do_nothing(index_elements=["product_id", "day"]))


def apply_deltas(session: Session, deltas: dict[tuple[int, date], int], products: dict[int, Product]) -> None:
    """Add ``deltas[(product_id, day)]`` to each counter (negative: release).

    Raises:
        SoldOutError: a positive change would exceed the day's capacity (the caller rolls back).
    """
    changes = {key: q for key, q in deltas.items() if q}
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
            left = session.scalar(select(ProductDay.capacity - ProductDay.reserved)
                                  .where(ProductDay.product_id == pid, ProductDay.day == day))
            name = products[pid].name
            raise SoldOutError(f"「{name}」{day.isoformat()} 剩余数量不足（剩余 {max(left or 0, 0)}，需要 {q}）",
                               field="days")


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
