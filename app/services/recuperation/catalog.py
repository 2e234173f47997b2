"""Bases and products (疗休养基地与产品): validation and the xlsx import kind."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import org_ids_in_scope
from app.services import imports
from app.services.errors import DomainError
from app.validators import normalize_text
from app.xlsx.cells import text
from app.xlsx.writer import Column, SheetSpec
from models.organizations import Org, OrgLevel
from models.recuperation import BaseStatus, Product, ProductCategory, ProductStatus, RecupBase

from . import reservations

FEN = Decimal("0.01")
MAX_PRICE = Decimal("100000")
MAX_CAPACITY = 100000


def money(value, label: str) -> Decimal:
    """A non-negative amount in yuan, rounded half-up to the fen.

    Raises:
        DomainError: not a number, negative or implausibly large.
    """
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value is not None and str(value).strip() else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise DomainError(f"{label}须为金额（如 88.00）", field=label)
    if amount < 0 or amount >= MAX_PRICE:
        raise DomainError(f"{label}须在 0 至 {MAX_PRICE} 元之间", field=label)
    return amount.quantize(FEN, ROUND_HALF_UP)


def validate_product(session: Session, product: Product) -> None:
    """The rules of a product, whoever saves it (form, import).

    Rules: 职工价 ≤ 团队价 (S000:L47); capacity a whole number ≥ 0 and not below what is already
    reserved on any day; the sale window in order; the product takes its base's county as scope.

    Raises:
        DomainError: the first rule broken.
    """
    with session.no_autoflush:
        _validate_product(session, product)


def _validate_product(session: Session, product: Product) -> None:
    if product.base is None and product.base_id:
        product.base = session.get(RecupBase, product.base_id)
    if product.base is None:
        raise DomainError("请选择所属基地", field="base")
    product.name = normalize_text(product.name)
    if not product.name:
        raise DomainError("请填写产品名称", field="name")
    if product.category not in {c.value for c in ProductCategory}:
        raise DomainError("产品类别须为餐饮套餐、景点活动或住宿", field="category")
    product.price = money(product.price, "职工价")
    product.group_price = money(product.group_price, "团队价")
    if product.price > product.group_price:
        raise DomainError(f"职工价 {product.price} 元不得高于团队价 {product.group_price} 元", field="price")
    if product.daily_capacity is None or not 0 <= int(product.daily_capacity) <= MAX_CAPACITY:
        raise DomainError(f"每日限量须为 0 至 {MAX_CAPACITY} 的整数", field="daily_capacity")
    if product.available_from and product.available_to and product.available_from > product.available_to:
        raise DomainError("供应开始日期不能晚于结束日期", field="available_to")
    product.status = product.status or ProductStatus.ON_SALE
    product.base_id = product.base.id
    product.org_id = product.base.org_id
    reservations.resize_capacity(session, product)


def validate_base(session: Session, base: RecupBase) -> None:
    """A base's name is filled and its county is a county federation.

    Raises:
        DomainError: the rule broken.
    """
    base.name = normalize_text(base.name)
    if not base.name:
        raise DomainError("请填写基地名称", field="name")
    org = base.org or (session.get(Org, base.org_id) if base.org_id else None)
    if org is None or org.level != OrgLevel.COUNTY:
        raise DomainError("所在区县须为区县总工会", field="org")
    base.org_id = org.id
    base.status = base.status or BaseStatus.ACTIVE


# --- import: 基地产品导入 ----------------------------------------------------------------
CATEGORY_BY_LABEL = {c.label: c.value for c in ProductCategory}
STATUS_BY_LABEL = {s.label: s.value for s in ProductStatus}
COLUMNS = [
    Column("base", "基地名称", required=True, width=24, note="新基地按名称自动登记"),
    Column("county", "所在区县", required=True, width=20, note="区县总工会全称"),
    Column("category", "产品类别", required=True, choices=list(CATEGORY_BY_LABEL)),
    Column("name", "产品名称", required=True, width=24),
    Column("price", "职工价", required=True, note="元，不得高于团队价"),
    Column("group_price", "团队价", required=True, note="元"),
    Column("daily_capacity", "每日限量", required=True, note="整数"),
    Column("status", "状态", choices=list(STATUS_BY_LABEL), note="留空视为上架"),
    Column("address", "基地地址"),
    Column("phone", "联系电话", text=True),
]
SHEET = SheetSpec("疗休养基地产品导入表", COLUMNS, instructions=[
    "每行一个产品；以「基地名称 + 产品名称」识别同一产品：已登记的按本表更新，未登记的新增。",
    "职工价不得高于团队价（疗休养基地价格不得高于团队价）。",
])


@dataclass
class ProductImportContext:
    counties: dict[str, int]                      # county name -> id (in the actor's scope)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)


def make_context(session: Session, job, actor) -> ProductImportContext:
    ids = org_ids_in_scope(actor)
    counties = {} if ids is None else {o.name: o.id for o in session.scalars(
        select(Org).where(Org.level == OrgLevel.COUNTY, Org.id.in_(ids)))}
    return ProductImportContext(counties=counties)


def parse_row(cells: dict, ctx: ProductImportContext):
    errors: dict[str, str] = {}
    record = {k: normalize_text(text(cells.get(k))) for k in ("base", "county", "name", "address", "phone")}
    for key, label in (("base", "基地名称"), ("name", "产品名称")):
        if not record[key]:
            errors[key] = f"请填写{label}"
        elif len(record[key]) > 120:
            errors[key] = f"{label}过长（最多120字）"
    record["org_id"] = ctx.counties.get(record["county"])
    if record["org_id"] is None:
        errors["county"] = "未找到该区县总工会（或不在您的管辖范围内）"
    category = CATEGORY_BY_LABEL.get(normalize_text(text(cells.get("category"))))
    if category is None:
        errors["category"] = "产品类别须为餐饮套餐、景点活动或住宿"
    record["category"] = category
    for key, label in (("price", "职工价"), ("group_price", "团队价")):
        try:
            record[key] = money(text(cells.get(key)), label)
        except DomainError as err:
            errors[key] = err.message
    if "price" in record and "group_price" in record and "price" not in errors and "group_price" not in errors \
            and record["price"] > record["group_price"]:
        errors["price"] = f"职工价 {record['price']} 元不得高于团队价 {record['group_price']} 元"
    raw = text(cells.get("daily_capacity"))
    try:
        capacity = int(Decimal(raw)) if raw and Decimal(raw) == Decimal(raw).to_integral() else None
    except InvalidOperation:
        capacity = None
    if capacity is None or not 0 <= capacity <= MAX_CAPACITY:
        errors["daily_capacity"] = f"每日限量须为 0 至 {MAX_CAPACITY} 的整数"
    record["daily_capacity"] = capacity
    status_text = normalize_text(text(cells.get("status")))
    record["status"] = STATUS_BY_LABEL.get(status_text or "上架")
    if record["status"] is None:
        errors["status"] = "状态须为上架或下架"
    key = (record["base"], record["name"])
    first = ctx.seen.setdefault(key, cells.get("_row_no", 0))
    if first != cells.get("_row_no", 0):
        errors["name"] = f"与本文件第{first}行的产品重复"
    return (None, errors) if errors else (record, {})


def write_batch(session: Session, rows: list, ctx, actor):
    """Upsert bases by name and products by (base, name); a base of another county is refused."""
    created = updated = 0
    errors = []
    bases = {b.name: b for b in session.scalars(select(RecupBase).where(
        RecupBase.name.in_({r["base"] for _n, r in rows})))}
    for row_no, record in rows:
        base = bases.get(record["base"])
        if base is None:
            base = RecupBase(name=record["base"], org_id=record["org_id"], address=record["address"] or None,
                             phone=record["phone"] or None, status=BaseStatus.ACTIVE)
            session.add(base)
            session.flush()
            bases[base.name] = base
        elif base.org_id != record["org_id"]:
            errors.append((row_no, {"county": "该基地已登记在其他区县"}))
            continue
        product = session.scalar(select(Product).where(Product.base_id == base.id, Product.name == record["name"]))
        fresh = product is None
        if fresh:
            product = Product(base_id=base.id, name=record["name"])
        for key in ("category", "price", "group_price", "daily_capacity", "status"):
            setattr(product, key, record[key])
        try:
            with session.begin_nested():
                if fresh:
                    session.add(product)
                validate_product(session, product)
                session.flush()
        except DomainError as err:
            errors.append((row_no, {err.field if err.field in {c.key for c in COLUMNS} else "name": err.message}))
            continue
        created += fresh
        updated += not fresh
    return created, updated, errors


PRODUCT_IMPORT = imports.register(imports.ImportKind(
    key="recup_products", label="疗休养基地产品导入", sheet=SHEET, make_context=make_context,
    parse_row=parse_row, write_batch=write_batch, view_name="ProductView",
))
