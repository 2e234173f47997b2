"""消费流水导入: the bases' / card company's statements (POS, 市民卡) → Consumption (the balance)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import base_scope_clause, org_ids_in_scope, scope_kind, ScopeKind
from app.services import imports
from app.services.errors import DomainError
from app.validators import normalize_text
from app.xlsx.cells import id_text, text
from app.xlsx.writer import Column, SheetSpec
from models.base import DISPLAY_TZ
from models.members import Member
from models.recuperation import Consumption, RecupBase

from .catalog import money

COLUMNS = [
    Column("serial", "流水号", required=True, text=True, width=22, note="同一流水号再次导入不会重复"),
    Column("id_number", "身份证号", required=True, text=True, width=22),
    Column("base", "基地名称", required=True, width=24),
    Column("amount", "消费金额", required=True, note="元"),
    Column("at", "消费时间", required=True, width=20, note="北京时间，如 2025-05-01 12:30"),
]
SHEET = SheetSpec("疗休养消费流水导入表", COLUMNS, instructions=[
    "每行一笔消费；余额 = 年度额度 − 实际消费（按实际出行消费结算）。",
])


@dataclass
class ConsumptionContext:
    bases: dict[str, tuple[int, int]]        # base name -> (id, county org id), in the actor's scope
    seen: dict[str, int] = field(default_factory=dict)


def make_context(session: Session, job, actor) -> ConsumptionContext:
    stmt = select(RecupBase)
    if scope_kind(actor) == ScopeKind.OWN_BASE:
        stmt = stmt.where(base_scope_clause(RecupBase.id, actor))
    else:
        ids = org_ids_in_scope(actor)
        stmt = stmt.where(RecupBase.org_id.in_(ids)) if ids is not None else stmt.where(RecupBase.id < 0)
    return ConsumptionContext(bases={b.name: (b.id, b.org_id) for b in session.scalars(stmt)})


def parse_time(raw: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=DISPLAY_TZ)
        except ValueError:
            continue
    return None


def parse_row(cells: dict, ctx: ConsumptionContext):
    errors: dict[str, str] = {}
    serial = normalize_text(text(cells.get("serial")))
    if not serial or len(serial) > 64:
        errors["serial"] = "请填写流水号（最多64位）"
    id_number = normalize_text(id_text(cells.get("id_number"))).upper()
    if not id_number or len(id_number) > 32:
        errors["id_number"] = "请填写身份证号"
    base = ctx.bases.get(normalize_text(text(cells.get("base"))))
    if base is None:
        errors["base"] = "未找到该基地（或不在您的管辖范围内）"
    amount = None
    try:
        amount = money(text(cells.get("amount")), "消费金额")
    except DomainError as err:
        errors["amount"] = err.message
    value = cells.get("at")
    at = value.replace(tzinfo=DISPLAY_TZ) if isinstance(value, datetime) else parse_time(normalize_text(text(value)))
    if at is None:
        errors["at"] = "消费时间格式有误（如 2025-05-01 12:30）"
    if serial and "serial" not in errors:
        first = ctx.seen.setdefault(serial, cells.get("_row_no", 0))
        if first != cells.get("_row_no", 0):
            errors["serial"] = f"与本文件第{first}行的流水号重复"
    if errors:
        return None, errors
    return {"serial": serial, "id_number": id_number, "base_id": base[0], "org_id": base[1], "amount": amount,
            "at": at}, {}


def write_batch(session: Session, rows: list, ctx, actor):
    numbers = {r["id_number"] for _n, r in rows}
    members = dict(session.execute(select(Member.id_number, Member.id).where(Member.id_number.in_(numbers))).all())
    known = set(session.scalars(select(Consumption.serial).where(Consumption.serial.in_([r["serial"] for _n, r in rows]))))
    created, errors = 0, []
    for row_no, record in rows:
        member_id = members.get(record["id_number"])
        if member_id is None:
            errors.append((row_no, {"id_number": "未查询到该会员"}))
            continue
        if record["serial"] in known:
            continue  # imported before: harmless
        session.add(Consumption(member_id=member_id, base_id=record["base_id"], org_id=record["org_id"],
                                amount=record["amount"], at=record["at"], serial=record["serial"]))
        known.add(record["serial"])
        created += 1
    session.flush()
    return created, 0, errors


CONSUMPTION_IMPORT = imports.register(imports.ImportKind(
    key="recup_consumption", label="疗休养消费流水导入", sheet=SHEET, make_context=make_context,
    parse_row=parse_row, write_batch=write_batch, view_name="ConsumptionView", permission="can_import",
))
