"""一线职工名单 (A-19): the city or county federation imports, per year, the members who may choose
一线职工疗休养 (S000:L34 "由市、县两级总工会直接组织"); a declaration of that type by a member not on
the year's roster is refused.

An import kind of the one import engine: re-importing the same file adds nothing (natural key
year + member); only members inside the importing federation's subtree are accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import ScopeKind, org_ids_in_scope, scope_kind
from app.services import imports
from app.validators import normalize_text
from app.xlsx.cells import CellError, id_text, text
from app.xlsx.writer import Column, SheetSpec
from models.members import Member
from models.organizations import Org, OrgLevel
from models.recuperation import FrontlineRoster

COLUMNS = [
    Column("year", "年度", required=True, width=10, note="如 2025"),
    Column("id_number", "身份证号", required=True, text=True, width=22, note="须为已登记的会员"),
    Column("name", "姓名", required=True, note="须与会员信息一致"),
    Column("remark", "备注"),
]
SHEET = SheetSpec("一线职工疗休养名单导入表", COLUMNS, instructions=[
    "每行一名一线职工；只有名单内的会员可申报当年度的「一线职工疗休养」。",
    "由市、区县总工会导入，只能导入本级及下级工会的会员；同一年度同一会员重复导入不会重复登记。",
])


def on_roster(session: Session, member_id: int, year: int) -> bool:
    return session.scalar(select(FrontlineRoster.id).where(FrontlineRoster.year == year,
                                                           FrontlineRoster.member_id == member_id)) is not None


@dataclass
class RosterContext:
    org_id: int | None                     # the importing federation (None: not a federation → rows refused)
    scope: object                           # SELECT of the org ids in the federation's subtree
    seen: dict[tuple[int, str], int] = field(default_factory=dict)


def make_context(session: Session, job, actor) -> RosterContext:
    org = session.get(Org, getattr(actor, "org_id", None)) if getattr(actor, "org_id", None) else None
    federation = (org is not None and org.level in (OrgLevel.CITY, OrgLevel.COUNTY)
                  and scope_kind(actor) in (ScopeKind.CITY, ScopeKind.SUBTREE))
    return RosterContext(org_id=org.id if federation else None, scope=org_ids_in_scope(actor) if federation else None)


def parse_row(cells: dict, ctx: RosterContext):
    errors: dict[str, str] = {}
    if ctx.org_id is None:
        return None, {imports.ROW_ERROR: "一线职工名单只能由市、区县总工会导入"}
    raw_year = normalize_text(text(cells.get("year"))).removesuffix("年")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else None
    if year is None:
        errors["year"] = "年度须为 2000 至 2100 的整数"
    try:
        id_number = id_text(cells.get("id_number"))
    except CellError as err:
        id_number, errors["id_number"] = "", str(err)
    if "id_number" not in errors and not 15 <= len(id_number) <= 18:
        errors["id_number"] = "请填写会员的身份证号"
    name = normalize_text(text(cells.get("name")))
    if not name:
        errors["name"] = "请填写姓名"
    if not errors:
        first = ctx.seen.setdefault((year, id_number), cells.get("_row_no", 0))
        if first != cells.get("_row_no", 0):
            errors["id_number"] = f"与本文件第{first}行重复"
    if errors:
        return None, errors
    return {"year": year, "id_number": id_number, "name": name}, {}


def write_batch(session: Session, rows: list, ctx: RosterContext, actor):
    numbers = {r["id_number"] for _n, r in rows}
    members = {m.id_number: m for m in session.scalars(
        select(Member).where(Member.id_number.in_(numbers), Member.org_id.in_(ctx.scope)))}
    known = set(session.execute(select(FrontlineRoster.year, FrontlineRoster.member_id).where(
        FrontlineRoster.member_id.in_([m.id for m in members.values()]))).all())
    created, errors = 0, []
    for row_no, record in rows:
        member = members.get(record["id_number"])
        if member is None:
            errors.append((row_no, {"id_number": "未查询到该会员（或不在本级及下级工会）"}))
            continue
        if member.name != record["name"]:
            errors.append((row_no, {"name": "姓名与会员信息不一致"}))
            continue
        if (record["year"], member.id) in known:
            continue  # on the roster already: harmless
        session.add(FrontlineRoster(year=record["year"], member_id=member.id, org_id=ctx.org_id))
        known.add((record["year"], member.id))
        created += 1
    session.flush()
    return created, 0, errors


FRONTLINE_IMPORT = imports.register(imports.ImportKind(
    key="recup_frontline", label="一线职工疗休养名单导入", sheet=SHEET, make_context=make_context,
    parse_row=parse_row, write_batch=write_batch, view_name="FrontlineRosterView", permission="can_import",
))
