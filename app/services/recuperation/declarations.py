"""计划申报: save, submit, modify and resubmit, cancel, unit review, grouping, travel.

One declaration per member and year. The type is locked at the first submit and stays locked
through every later path (resubmit, unit return, cancel + redeclare). Reservations are taken and
swapped through ``reservations.apply_deltas`` inside the same transaction as the plan, so a
refused modification leaves the old plan and its bookings as they were.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from app.security import org_in_scope, org_scope_clause
from app.services import audit, organizations, review_flow
from app.services.errors import DomainError, NotFoundError
from app.validators import normalize_text
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.members import Member
from models.organizations import Org, OrgLevel
from models.recuperation import (CITY_TYPES, DECLARATION_FLOW, PLATFORM_TYPES, BaseStatus, Declaration,
                                 DeclarationDay, DeclarationItem, DeclarationStatus, Product, ProductDay, ProductStatus,
                                 RecupType, Reservation, ReservationStatus, TourGroup, TourGroupStatus)

from . import notifications
from . import policy as policies
from . import reservations

MAX_DAYS = 31
MAX_ITEMS_PER_DAY = 10
MAX_QUANTITY = 20
FEN = Decimal("0.01")
EDITABLE = (DeclarationStatus.DRAFT, DeclarationStatus.SUBMITTED, DeclarationStatus.UNIT_APPROVED)


class TypeLockedError(DomainError):
    code = "type_locked"


class ItineraryError(DomainError):
    code = "itinerary_invalid"


@dataclass
class PlanDay:
    day: date
    items: list[tuple[int, int]] = field(default_factory=list)  # (product id, quantity)


@dataclass
class SaveResult:
    declaration: Declaration
    warnings: list[str]


def parse_itinerary(raw) -> list[PlanDay]:
    """``[{"date": "2025-05-01", "items": [{"product_id": 1, "quantity": 1}]}]`` → PlanDays.

    Raises:
        ItineraryError: malformed or oversized (a Chinese message naming the day).
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ItineraryError("行程格式有误：days 须为列表")
    if len(raw) > MAX_DAYS:
        raise ItineraryError(f"行程最多 {MAX_DAYS} 日")
    days = []
    for n, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise ItineraryError(f"第{n}日格式有误")
        try:
            day = date.fromisoformat(str(entry.get("date") or ""))
        except ValueError:
            raise ItineraryError(f"第{n}日的日期格式有误（如 2025-05-01）") from None
        items = entry.get("items") or []
        if not isinstance(items, list) or len(items) > MAX_ITEMS_PER_DAY:
            raise ItineraryError(f"第{n}日最多选择 {MAX_ITEMS_PER_DAY} 个产品")
        parsed = []
        for item in items:
            if not isinstance(item, dict):
                raise ItineraryError(f"第{n}日的产品格式有误")
            pid, qty = item.get("product_id"), item.get("quantity", 1)
            if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2**31:
                raise ItineraryError(f"第{n}日的产品编号有误")
            if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QUANTITY:
                raise ItineraryError(f"第{n}日的产品数量须为 1 至 {MAX_QUANTITY} 的整数")
            parsed.append((pid, qty))
        days.append(PlanDay(day, parsed))
    return days


def check_dates(days: list[date], *, year: int, today: date) -> None:
    """Every later date strictly after the one before (S000:L49; gaps allowed), inside the policy
    year and after today.

    Raises:
        ItineraryError: e.g. 「第2日的日期须晚于第1日（2025-05-01）」.
    """
    for n, day in enumerate(days, 1):
        if day.year != year:
            raise ItineraryError(f"第{n}日的日期须在{year}年度内")
        if day <= today:
            raise ItineraryError(f"第{n}日的日期须晚于今天（{today.isoformat()}）")
        if n > 1 and day <= days[n - 2]:
            raise ItineraryError(f"第{n}日的日期须晚于第{n - 1}日（{days[n - 2].isoformat()}）")


def plan_total(lines) -> Decimal:
    """Σ quantity × price, rounded half-up to the fen once."""
    return sum((Decimal(q) * Decimal(p) for q, p in lines), Decimal(0)).quantize(FEN, ROUND_HALF_UP)


def _products(session: Session, ids) -> dict[int, Product]:
    ids = sorted(set(ids))
    return {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids))
                                             .options(joinedload(Product.base)))} if ids else {}


class PlanProducts(dict):
    """The plan's products by id, and ``left``: what is free now of each on the plan's days
    (``(product_id, day) → capacity − reserved``; a day with no booking yet is absent)."""

    left: dict


def _plan_products(session: Session, days: list[PlanDay]) -> PlanProducts:
    """The plan's products with their bases and their counters on the plan's days: one query."""
    products = PlanProducts()
    products.left = {}
    ids = sorted({pid for d in days for pid, _q in d.items})
    if not ids:
        return products
    for product, day, left in session.execute(
            select(Product, ProductDay.day, ProductDay.capacity - ProductDay.reserved)
            .options(joinedload(Product.base))
            .outerjoin(ProductDay, (ProductDay.product_id == Product.id)
                       & ProductDay.day.in_(sorted({d.day for d in days})))
            .where(Product.id.in_(ids))):
        products[product.id] = product
        if day is not None:
            products.left[(product.id, day)] = left
    return products


def _check_products(session, days: list[PlanDay], products, dtype: str, county_id: int | None) -> None:
    for n, plan in enumerate(days, 1):
        seen = set()
        for pid, _qty in plan.items:
            product = products.get(pid)
            if product is None:
                raise ItineraryError(f"第{n}日所选产品不存在")
            if pid in seen:
                raise ItineraryError(f"第{n}日重复选择了「{product.name}」，请改数量")
            seen.add(pid)
            if product.status != ProductStatus.ON_SALE or product.base.status != BaseStatus.ACTIVE:
                raise ItineraryError(f"第{n}日所选「{product.name}」已下架")
            if (product.available_from and plan.day < product.available_from) or (
                    product.available_to and plan.day > product.available_to):
                raise ItineraryError(f"第{n}日所选「{product.name}」当日不提供")
            if dtype == RecupType.CITY_COUNTY and product.base.org_id != county_id:
                raise ItineraryError(f"市内-区县疗休养只能选择本区县的基地产品（第{n}日「{product.name}」）")


def _lock(session: Session, member_id: int, year: int) -> Declaration | None:
    return session.scalar(select(Declaration).where(Declaration.member_id == member_id, Declaration.year == year)
                          .with_for_update().execution_options(populate_existing=True))


def _union(session: Session, member: Member, org_id, unit_name, actor) -> Org:
    if unit_name:
        return create_pending_unit(session, unit_name, actor=actor)
    org = session.get(Org, org_id) if org_id else member.org
    if org is None or org.level not in (OrgLevel.BASE, OrgLevel.PENDING):
        raise DomainError("请选择所在的基层工会", field="org")
    return org


def create_pending_unit(session: Session, name: str, *, actor) -> Org:
    """手动输入名称: an ``Org(level=PENDING)`` under the city federation, for an admin to set up
    within 2 hours (S000:L26, A-21); the same typed name reuses the pending org.

    Raises:
        DomainError: blank or too long.
    """
    name = normalize_text(name)
    if not 2 <= len(name) <= 60:
        raise DomainError("单位名称须为 2 至 60 个字", field="unit_name")
    existing = session.scalar(select(Org).where(Org.level == OrgLevel.PENDING, Org.name == name))
    if existing is not None:
        return existing
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)).order_by(Org.id).limit(1))
    org = organizations.create_org(session, name=name, parent=root, level=OrgLevel.PENDING, commit=False)
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="org", target_id=org.id,
                 summary=f"手动输入单位「{name}」：待2小时内建立账户")
    return org


def pending_orgs(session: Session, user, now: datetime | None = None) -> list[dict]:
    """The admin's list of typed-in units: age and whether the 2-hour SLA is passed."""
    now = now or utcnow()
    rows = []
    for org in session.scalars(select(Org).where(Org.level == OrgLevel.PENDING, org_scope_clause(Org.id, user))
                               .order_by(Org.created_at)):
        age = now - (org.created_at or now)
        declarations = session.scalar(select(func.count(Declaration.id)).where(Declaration.org_id == org.id))
        created = (org.created_at or now).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
        rows.append({"org": org, "age": age, "created_label": created, "overdue": age > timedelta(hours=2), "declarations": declarations,
                     "age_label": f"{int(age.total_seconds() // 3600)}小时{int(age.total_seconds() % 3600 // 60)}分"})
    return rows


def resolve_pending_org(session: Session, pending_id: int, target_id: int, *, actor) -> int:
    """Point the pending org's declarations to a real base union and remove it; returns how many moved.

    Raises:
        NotFoundError: either org outside the actor's scope. DomainError: the target is no base union.
    """
    pending, target = session.get(Org, pending_id), session.get(Org, target_id)
    if pending is None or pending.level != OrgLevel.PENDING or not org_in_scope(session, pending.id, actor):
        raise NotFoundError("待核实组织不存在或不在您的管辖范围内")
    if target is None or not org_in_scope(session, target.id, actor):
        raise NotFoundError("目标工会不存在或不在您的管辖范围内")
    if target.level != OrgLevel.BASE:
        raise DomainError("请选择一个基层工会")
    moved = 0
    for declaration in session.scalars(select(Declaration).where(Declaration.org_id == pending.id)):
        declaration.org_id = target.id
        for day in declaration.days:
            day.org_id = target.id
        moved += 1
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="org", target_id=target.id,
                 summary=f"待核实组织「{pending.name}」并入「{target.name}」：{moved} 份申报")
    session.flush()
    session.delete(pending)
    session.commit()
    return moved


def _load_days(session, declaration: Declaration) -> None:
    """The itinerary with its items in two queries (not one per day)."""
    session.scalars(select(DeclarationDay).where(DeclarationDay.declaration_id == declaration.id)
                    .options(selectinload(DeclarationDay.items))).all()


def _plan_lines(declaration: Declaration):
    for day in declaration.days:
        for item in day.items:
            yield day.day, item.product_id, item.quantity, item.price


def _store_days(session, declaration: Declaration, days: list[PlanDay], products, fresh: bool = False) -> None:
    """Replace the itinerary: the days in one INSERT (their ids returned), the items in another."""
    if not fresh:
        old_days = select(DeclarationDay.id).where(DeclarationDay.declaration_id == declaration.id)
        session.execute(delete(DeclarationItem).where(DeclarationItem.day_id.in_(old_days))
                        .execution_options(synchronize_session=False))
        session.execute(delete(DeclarationDay).where(DeclarationDay.declaration_id == declaration.id)
                        .execution_options(synchronize_session=False))
    if days and session.get_bind().dialect.name == "postgresql":
        session.flush()  # the declaration's id
        items = [(n, pid, qty, products[pid].price) for n, plan in enumerate(days, 1) for pid, qty in plan.items]
        session.execute(_DAYS_AND_ITEMS_PG, {
            "declaration_id": declaration.id, "org_id": declaration.org_id,
            "seqs": list(range(1, len(days) + 1)), "days": [plan.day for plan in days],
            "item_seqs": [i[0] for i in items], "products": [i[1] for i in items],
            "quantities": [i[2] for i in items], "prices": [i[3] for i in items]})
    elif days:
        session.flush()  # the declaration's id
        # executemany of the tables (Core: no ORM bulk-insert layer): one multi-row INSERT on the
        # wire, its SQL compiled once per process
        day_ids = {seq: day_id for seq, day_id in session.execute(
            insert(DeclarationDay.__table__).returning(DeclarationDay.seq, DeclarationDay.id),
            [{"declaration_id": declaration.id, "seq": n, "day": plan.day, "org_id": declaration.org_id}
             for n, plan in enumerate(days, 1)])}
        items = [{"day_id": day_ids[n], "product_id": pid, "quantity": qty, "price": products[pid].price}
                 for n, plan in enumerate(days, 1) for pid, qty in plan.items]
        if items:
            session.execute(insert(DeclarationItem.__table__), items)
    if days or not fresh:
        session.expire(declaration, ["days"])


# PostgreSQL: the itinerary's days and their items in one statement (fixed SQL over arrays)
_DAYS_AND_ITEMS_PG = text("""
    WITH d AS (
        INSERT INTO recup_declaration_day (declaration_id, seq, day, org_id)
        SELECT :declaration_id, t.seq, t.day, :org_id
        FROM unnest(CAST(:seqs AS integer[]), CAST(:days AS date[])) AS t(seq, day)
        RETURNING id, seq
    )
    INSERT INTO recup_declaration_item (day_id, product_id, quantity, price)
    SELECT d.id, i.product_id, i.quantity, i.price
    FROM unnest(CAST(:item_seqs AS integer[]), CAST(:products AS integer[]), CAST(:quantities AS integer[]),
                CAST(:prices AS numeric[])) AS i(seq, product_id, quantity, price)
    JOIN d ON d.seq = i.seq
""")


def _deltas(old_lines: list, new_lines: list) -> dict:
    """Net booking change per (product, day): the new plan's quantities less the old plan's."""
    deltas: dict = defaultdict(int)
    for day, pid, qty, _price in old_lines:
        deltas[(pid, day)] -= qty
    for day, pid, qty, _price in new_lines:
        deltas[(pid, day)] += qty
    return deltas


def _take_reservations(session, declaration: Declaration, member: Member, old_lines: list, new_lines: list,
                       products) -> None:
    """Release the old plan's bookings and take the new plan's, as net counter changes, in one transaction.

    The counters are changed last, just before the caller commits: their row locks (what concurrent
    declarers of the same product and day wait on) are held as briefly as possible."""
    rows = [{"product_id": pid, "base_id": products[pid].base_id, "org_id": products[pid].org_id, "day": day,
             "quantity": qty, "price": price, "declaration_id": declaration.id, "member_name": member.name,
             "member_phone": member.phone, "version": declaration.version, "status": ReservationStatus.RESERVED}
            for day, pid, qty, price in new_lines]
    if rows and not old_lines:  # a first submit: the bookings and their counters in one go
        reservations.book(session, rows, products)
        return
    deltas = _deltas(old_lines, new_lines)
    if old_lines:  # a plan not yet submitted holds no bookings
        session.execute(update(Reservation).where(Reservation.declaration_id == declaration.id,
                                                  Reservation.status == ReservationStatus.RESERVED)
                        .values(status=ReservationStatus.CANCELLED, cancelled_at=utcnow())
                        .execution_options(synchronize_session=False))
    if rows:
        session.execute(insert(Reservation.__table__), rows)
    missing = [pid for _d, pid, _q, _c in old_lines if pid not in products]
    reservations.apply_deltas(session, deltas, {**products, **_products(session, missing)})


def _validate(session, declaration: Declaration, member: Member, policy, days: list[PlanDay], now) -> dict:
    dtype = declaration.type
    county = policies.county_of(session, member.org_id) if dtype == RecupType.CITY_COUNTY else None
    if not policies.allows_type(session, policy, member, dtype, county):
        if dtype == RecupType.FRONTLINE and dtype in policy.allowed_types:
            raise DomainError(f"您不在{policy.year}年度一线职工疗休养名单内，不能选择「一线职工疗休养」"
                              "（名单由市、区县总工会导入）", field="type", code="not_on_roster")
        raise DomainError(f"本年度您不能选择「{RecupType.label_of(dtype)}」", field="type")
    if dtype in CITY_TYPES and not member.holds_citizen_card:
        raise DomainError("市内疗休养须使用市民卡在基地刷卡记账，您尚未登记市民卡，请先由所在工会登记市民卡号"
                          "或「持有市民卡」后再申报", field="type", code="no_citizen_card")
    if dtype == RecupType.NONE and days:
        raise ItineraryError("本年度不参加无需填报行程")
    if dtype not in CITY_TYPES and any(d.items for d in days):
        raise ItineraryError("只有市内疗休养可预约基地产品")
    check_dates([d.day for d in days], year=policy.year, today=policies.beijing_today(now))
    products = _plan_products(session, days)
    _check_products(session, days, products, dtype, county.id if county else None)
    return products


def _check_ready(declaration: Declaration, days: list[PlanDay]) -> None:
    if declaration.type in CITY_TYPES and not any(d.items for d in days):
        raise ItineraryError("市内疗休养须至少填报一日行程并选择产品")
    if declaration.type not in CITY_TYPES and declaration.type not in (RecupType.NONE, RecupType.FRONTLINE) \
            and not declaration.destination:
        raise DomainError("请填写目的地或线路意向", field="destination")


def _summary(declaration, lines, policy) -> list[str]:
    total = plan_total((q, p) for _d, _pid, q, p in lines)
    declaration.planned_total = total
    declaration.over_budget = total > policy.budget
    warning = policies.budget_warning(total, Decimal(policy.budget))
    return [warning] if warning else []


def _notify(session, declaration: Declaration, member: Member, template: str, **params) -> None:
    """站内信 + SMS to the member (both exist if and only if the caller commits)."""
    notifications.send(session, member, template, {"year": declaration.year, **params}, related=declaration)


def _stored_days(declaration) -> list[PlanDay]:
    return [PlanDay(d.day, [(i.product_id, i.quantity) for i in d.items]) for d in declaration.days]


UNREAD = object()  # ``save_declaration(existing=…)``: not read with the member


def declaring(session: Session, member_id: int, year: int) -> tuple[Member | None, Declaration | None]:
    """The member about to declare, with his union, and his plan of ``year`` (None: none yet), in one
    query (no lock: ``save_declaration(existing=…)`` locks a plan that exists)."""
    row = session.execute(select(Member, Declaration).options(joinedload(Member.org))
                          .outerjoin(Declaration, (Declaration.member_id == Member.id) & (Declaration.year == year))
                          .where(Member.id == member_id)).first()
    return (row[0], row[1]) if row is not None else (None, None)


def save_declaration(session: Session, *, member: Member, year: int, type: str, actor, org_id=None,
                     unit_name: str | None = None, days=None, destination: str | None = None,
                     planned_from: date | None = None, planned_to: date | None = None,
                     now: datetime | None = None, submit: bool = False, commitment: bool = False,
                     existing=UNREAD) -> SaveResult:
    """Create or change the member's plan for ``year``.

    A draft (or a cancelled plan, redeclared) is saved as a draft. A submitted plan is modified and
    resubmitted at once (S000:L50, version + 1): its old bookings are released and the new ones
    taken in the same transaction, before its first travel day (Beijing, A-17) only.

    Rules: the window is open (Beijing); the type is one of the eight, allowed to this member this
    year and — once submitted — never changed (S000:L27); dates strictly increasing, in the year,
    after today; products on sale on their date, within capacity; a total above the reference
    budget is kept, with the warning.

    ``submit``: a draft saved is also submitted (计划上报, ``commitment`` ticked) in the same
    transaction, as ``submit_declaration`` would (one request of the form or the API).
    ``existing``: the plan as ``declaring`` read it with the member (None: there was none), so that a
    first plan costs no locking read; a plan that exists is read again under its row lock.

    Raises:
        WindowClosedError, TypeLockedError, ItineraryError, SoldOutError, DomainError (``conflict``:
        the member's first plan of the year was saved by a parallel request).
    """
    now = now or utcnow()
    try:
        if submit and not commitment:
            raise _commitment_missing()
        result = _save(session, member, year, type, actor, org_id, unit_name, days, destination, planned_from,
                       planned_to, now, submit, existing)
        session.commit()
        return result
    except DomainError:
        session.rollback()
        raise
    except IntegrityError:  # two first plans at once (uq member + year): the other one stands
        session.rollback()
        raise DomainError("本年度的计划已由另一次提交保存，请刷新后查看", code="conflict") from None


def _commitment_missing() -> DomainError:
    return DomainError("请阅读并同意承诺书后再上报", code="commitment_required", field="commitment")


def _save(session, member, year, dtype, actor, org_id, unit_name, days, destination, planned_from, planned_to,
          now, submit=False, existing=UNREAD) -> SaveResult:
    if dtype not in {t.value for t in RecupType}:
        raise DomainError("请选择疗休养类型", field="type")
    policy = policies.get_policy(session, year)
    policies.check_window(policy, now)
    plan_days = days if isinstance(days, list) and days and all(isinstance(d, PlanDay) for d in days) \
        else parse_itinerary(days)
    declaration = _lock(session, member.id, year) if existing is not None else None
    if declaration is not None and declaration.locked_type and dtype != declaration.locked_type:
        raise TypeLockedError("疗休养类型提交后不可修改", field="type")
    if declaration is not None and declaration.status not in (*EDITABLE, DeclarationStatus.CANCELLED):
        raise DomainError(f"当前状态为「{declaration.status_label}」，计划不可再修改")
    today = policies.beijing_today(now)
    resubmit = declaration is not None and declaration.status in (DeclarationStatus.SUBMITTED,
                                                                  DeclarationStatus.UNIT_APPROVED)
    if resubmit and declaration.first_travel_date and today >= declaration.first_travel_date:
        raise DomainError("已到计划出行日期，计划不可再修改", code="travel_started")
    union = _union(session, member, org_id, unit_name, actor)
    fresh = declaration is None
    if declaration is None:  # added once validated: one INSERT with the plan, no UPDATE after it
        declaration = Declaration(member_id=member.id, year=year, type=dtype, org_id=union.id,
                                  status=DeclarationStatus.DRAFT, version=0, declared_by_id=getattr(actor, "id", None))
    elif declaration.status == DeclarationStatus.CANCELLED:
        review_flow.apply_transition(session, Declaration, declaration.id, "redeclare", flow=DECLARATION_FLOW,
                                     actor=actor, status_labels=DeclarationStatus)
    declaration.type, declaration.org_id = dtype, union.id
    declaration.destination = normalize_text(destination)[:200] or None
    if planned_from and planned_to and planned_to < planned_from:
        raise DomainError("计划结束日期不能早于开始日期", field="planned_to")
    declaration.planned_from, declaration.planned_to = planned_from, planned_to
    declaration.declared_by_id = getattr(actor, "id", None)
    products = _validate(session, declaration, member, policy, plan_days, now)
    if resubmit:
        _load_days(session, declaration)
    old_lines = list(_plan_lines(declaration)) if resubmit else []
    new_lines = [(d.day, pid, qty, products[pid].price) for d in plan_days for pid, qty in d.items]
    warnings = _summary(declaration, new_lines, policy)
    declaration.first_travel_date = plan_days[0].day if plan_days else None
    declaration.last_travel_date = plan_days[-1].day if plan_days else None
    submitting = submit and declaration.status == DeclarationStatus.DRAFT
    if submitting or resubmit:
        # a day already sold out refuses the plan before anything is written (the counters' own
        # conditional update at the end still decides under concurrency)
        reservations.check_available(_deltas(old_lines, new_lines), products, products.left)
    if fresh:  # (added after the last read: nothing autoflushes it half-made)
        session.add(declaration)
    if submitting:  # the plan is written once, submitted (a new one: one INSERT)
        _check_ready(declaration, plan_days)
        _mark_submitted(declaration, now)
        review_flow.apply_transition(session, Declaration, declaration.id, "submit", flow=DECLARATION_FLOW,
                                     actor=actor, status_labels=DeclarationStatus, obj=declaration)
    _store_days(session, declaration, plan_days, products, fresh=fresh)
    if submitting:
        _booked(session, declaration, member, new_lines, products)
    elif resubmit:
        _check_ready(declaration, plan_days)
        review_flow.apply_transition(session, Declaration, declaration.id, "resubmit", flow=DECLARATION_FLOW,
                                     actor=actor, status_labels=DeclarationStatus)
        declaration.version += 1
        declaration.last_submitted_at = now
        _notify(session, declaration, member, "recup_submitted", type=declaration.type_label,
                total=f"{declaration.planned_total:.2f}")
        _take_reservations(session, declaration, member, old_lines, new_lines, products)
    return SaveResult(declaration, warnings)


def submit_declaration(session: Session, declaration_id: int, *, actor, commitment: bool,
                       scope=None, now: datetime | None = None) -> SaveResult:
    """计划上报: the commitment ticked, the plan complete → 已上报; bookings taken; the type locked.

    Raises:
        NotFoundError, WindowClosedError, ItineraryError, SoldOutError, InvalidTransitionError, DomainError.
    """
    now = now or utcnow()
    try:
        if not commitment:
            raise _commitment_missing()
        declaration = review_flow.apply_transition(session, Declaration, declaration_id, "submit",
                                                   flow=DECLARATION_FLOW, actor=actor, scope_clause=scope,
                                                   status_labels=DeclarationStatus)
        policy = policies.get_policy(session, declaration.year)
        policies.check_window(policy, now)
        member = session.get(Member, declaration.member_id)
        _load_days(session, declaration)
        days = _stored_days(declaration)
        if declaration.locked_type and declaration.type != declaration.locked_type:
            raise TypeLockedError("疗休养类型提交后不可修改", field="type")
        products = _validate(session, declaration, member, policy, days, now)
        # prices as of submission: what the base is told
        for day in declaration.days:
            for item in day.items:
                item.price = products[item.product_id].price
        lines = list(_plan_lines(declaration))
        warnings = _summary(declaration, lines, policy)
        _submit(session, declaration, member, days, lines, products, now)
        session.commit()
        return SaveResult(declaration, warnings)
    except DomainError:
        session.rollback()
        raise


def _submit(session, declaration: Declaration, member: Member, days: list[PlanDay], lines: list, products,
            now: datetime) -> None:
    """The rest of 计划上报 once the transition is taken: complete plan, type locked, bookings taken."""
    _check_ready(declaration, days)
    _mark_submitted(declaration, now)
    _booked(session, declaration, member, lines, products)


def _mark_submitted(declaration: Declaration, now: datetime) -> None:
    declaration.locked_type = declaration.type
    declaration.version += 1
    declaration.first_submitted_at = declaration.first_submitted_at or now
    declaration.last_submitted_at = now
    declaration.commitment_accepted_at = now


def _booked(session, declaration: Declaration, member: Member, lines: list, products) -> None:
    """计划上报 told to the member, the bookings taken (counters last: their locks are held briefly)."""
    _notify(session, declaration, member, "recup_submitted", type=declaration.type_label,
            total=f"{declaration.planned_total:.2f}")
    _take_reservations(session, declaration, member, [], lines, products)


def cancel_declaration(session: Session, declaration_id: int, *, actor, scope=None,
                       now: datetime | None = None) -> Declaration:
    """取消计划 before the first travel day: bookings released; the type stays locked for the year.

    Raises:
        NotFoundError, InvalidTransitionError, DomainError (travel started).
    """
    now = now or utcnow()
    try:
        declaration = review_flow.apply_transition(session, Declaration, declaration_id, "cancel",
                                                   flow=DECLARATION_FLOW, actor=actor, scope_clause=scope,
                                                   status_labels=DeclarationStatus)
        if declaration.first_travel_date and policies.beijing_today(now) >= declaration.first_travel_date:
            raise DomainError("已到计划出行日期，计划不可取消", code="travel_started")
        member = session.get(Member, declaration.member_id)
        _take_reservations(session, declaration, member, list(_plan_lines(declaration)), [], {})
        session.commit()
        return declaration
    except DomainError:
        session.rollback()
        raise


def review_declaration(session: Session, declaration_id: int, action: str, *, actor, reason: str | None = None,
                       can=None) -> Declaration:
    """单位审核 of a 平台拼团 plan by the member's union (approve, or return to 草稿 with a reason).

    Raises:
        NotFoundError, InvalidTransitionError, SelfApprovalError, ReasonRequiredError, DomainError.
    """
    if action not in ("unit_approve", "unit_reject"):
        raise DomainError("不支持的审核操作")
    try:
        declaration = session.scalar(select(Declaration).where(Declaration.id == declaration_id,
                                                               org_scope_clause(Declaration.org_id, actor)))
        if declaration is None:
            raise NotFoundError("记录不存在或不在您的管辖范围内")
        if declaration.type not in PLATFORM_TYPES:
            raise DomainError("只有平台拼团的计划需要单位审核")
        review_flow.apply_transition(session, Declaration, declaration_id, action, flow=DECLARATION_FLOW,
                                     actor=actor, reason=reason, status_labels=DeclarationStatus, can=can,
                                     scope_clause=org_scope_clause(Declaration.org_id, actor))
        if action == "unit_reject":
            _notify(session, declaration, declaration.member, "recup_returned", reason=(reason or "").strip())
        session.commit()
        return declaration
    except DomainError:
        session.rollback()
        raise


def assign_group(session: Session, declaration_id: int, group_id: int, *, actor, can=None) -> Declaration:
    """平台组团: a 单位已审核 plan joins a tour group of the platform that has room.

    Raises:
        NotFoundError, InvalidTransitionError, DomainError (group full or closed, destination scope).
    """
    try:
        scope = org_scope_clause(Declaration.org_id, actor)
        group = session.scalar(select(TourGroup).where(TourGroup.id == group_id,
                                                       org_scope_clause(TourGroup.org_id, actor)).with_for_update())
        if group is None:
            raise NotFoundError("拼团不存在或不在您的管辖范围内")
        if group.status != TourGroupStatus.FORMING:
            raise DomainError(f"该团当前为「{group.status_label}」，不能再加入")
        joined = session.scalar(select(func.count(Declaration.id)).where(Declaration.tour_group_id == group.id))
        if joined >= group.capacity:
            raise DomainError(f"该团已满（{group.capacity} 人）")
        declaration = review_flow.apply_transition(session, Declaration, declaration_id, "group",
                                                   flow=DECLARATION_FLOW, actor=actor, scope_clause=scope, can=can,
                                                   status_labels=DeclarationStatus)
        declaration.tour_group_id = group.id
        _notify(session, declaration, declaration.member, "recup_grouped", group=group.route)
        session.commit()
        return declaration
    except DomainError:
        session.rollback()
        raise


def advance_travel(session: Session, now: datetime | None = None) -> int:
    """Scheduled: plans whose first day has come → 出行中; whose last day has passed → 已完成."""
    today = policies.beijing_today(now)
    moved = 0
    starting = session.scalars(select(Declaration.id).where(
        Declaration.status.in_([DeclarationStatus.SUBMITTED, DeclarationStatus.GROUPED]),
        Declaration.first_travel_date <= today)).all()
    for declaration_id in starting:
        review_flow.apply_transition(session, Declaration, declaration_id, "start", flow=DECLARATION_FLOW,
                                     actor=None, status_labels=DeclarationStatus)
        moved += 1
    ending = session.scalars(select(Declaration.id).where(Declaration.status == DeclarationStatus.TRAVELLING,
                                                          Declaration.last_travel_date < today)).all()
    for declaration_id in ending:
        review_flow.apply_transition(session, Declaration, declaration_id, "finish", flow=DECLARATION_FLOW,
                                     actor=None, status_labels=DeclarationStatus)
        moved += 1
    session.commit()
    return moved


def declaration_of(session: Session, member_id: int, year: int) -> Declaration | None:
    return session.scalar(select(Declaration).where(Declaration.member_id == member_id, Declaration.year == year))


def describe(declaration: Declaration, policy=None) -> dict:
    """The declaration as the member API shows it."""
    days = [{"seq": d.seq, "date": d.day.isoformat(), "items": [
        {"product_id": i.product_id, "product": i.product.name, "category": i.product.category_label,
         "base": i.product.base.name, "quantity": i.quantity, "price": f"{i.price:.2f}"} for i in d.items]}
        for d in declaration.days]
    total = Decimal(declaration.planned_total or 0)
    warning = policies.budget_warning(total, Decimal(policy.budget)) if policy is not None else None
    return {"id": declaration.id, "year": declaration.year, "type": declaration.type,
            "type_label": declaration.type_label, "type_locked": bool(declaration.locked_type),
            "status": declaration.status, "status_label": declaration.status_label,
            "org": declaration.org.name if declaration.org else None, "org_id": declaration.org_id,
            "org_pending": bool(declaration.org and declaration.org.level == OrgLevel.PENDING),
            "destination": declaration.destination, "version": declaration.version, "days": days,
            "planned_total": f"{total:.2f}", "over_budget": declaration.over_budget, "warning": warning,
            "first_travel_date": declaration.first_travel_date.isoformat() if declaration.first_travel_date else None}
