"""会员信息采集: the member import kind (template, pure row parser, bulk upsert)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import bindparam, insert, select, update

from app.database import fast_insert, in_many
from app.masking import mask_id_number, mask_phone
from app.security import org_ids_in_scope
from app.services import imports
from app.services.audit import entry_values
from app.services.errors import DomainError
from app.services.members import membership_changed, reserve_member_numbers
from app.validators import (
    ValidationError,
    normalize_citizen_card,
    parse_resident_id,
    validate_chinese_name,
    validate_mobile,
)
from app.xlsx.cells import CellError, date_value, id_text, text
from app.xlsx.writer import Column, SheetSpec
from models.audit import AuditEvent, AuditLog
from models.base import utcnow
from models.members import Gender, IdType, Member, MembershipStatus
from models.organizations import Org, OrgLevel, Unit

YES_NO = {"是": True, "否": False, "": False}
COLUMNS = [
    Column("name", "姓名", required=True, note="与证件一致"),
    Column("id_type", "证件类型", choices=[t.label for t in IdType], note="留空视为居民身份证"),
    Column("id_number", "证件号码", required=True, text=True, width=22, note="居民身份证按 GB 11643 校验"),
    Column("gender", "性别", choices=[g.label for g in Gender], note="居民身份证可不填，按号码自动生成"),
    Column("birth_date", "出生日期", note="居民身份证可不填；格式 1990-01-31"),
    Column("phone", "手机号", text=True, note="11位手机号"),
    Column("migrant_worker", "是否农民工", choices=["是", "否"]),
    Column("position", "职务"),
    Column("join_date", "入会日期", note="格式 2020-01-31"),
    Column("org", "所属工会", width=24, note="基层工会全称；基层工会管理员可不填；所在单位名称在您的范围内唯一时可不填"),
    Column("unit", "所在单位", width=24, note="须已在「单位信息」中登记"),
    Column("status", "会籍状态", choices=[s.label for s in MembershipStatus], note="留空视为在会"),
    # 市民卡 (S000:L20): 市内疗休养 needs one; optional columns, a file without them leaves the cards as they are
    Column("citizen_card_no", "市民卡号", text=True, width=22, note="6 至 32 位数字或字母；市内疗休养须持有市民卡"),
    Column("has_citizen_card", "是否持有市民卡", choices=["是", "否"], note="填写了市民卡号时可不填"),
    Column("remark", "备注"),
]
SHEET = SheetSpec("会员信息采集表", COLUMNS, instructions=[
    "每行一名会员；以证件号码识别同一人：已登记的会员按本表更新，未登记的新增。",
    "导入后可在「采集任务」中查看进度；未通过校验的行可下载「导出结果」，改正后重新上传。",
])
_LABEL = {
    "id_type": {t.label: t.value for t in IdType},
    "gender": {g.label: g.value for g in Gender},
    "status": {s.label: s.value for s in MembershipStatus},
}
_COMPARED = ("name", "id_type", "gender", "birth_date", "phone", "migrant_worker", "position", "join_date",
             "unit_id", "status", "remark")
# compared and written only when the file has their column (older templates lack them)
_OPTIONAL = ("citizen_card_no", "has_citizen_card")


@dataclass
class MemberImportContext:
    """What the parser needs, looked up once per job (pure data, no session)."""

    unions: dict[str, int]                       # base-union name -> id (in scope)
    districts: dict[int, str]                    # base-union id -> 3-digit district code
    union_names: dict[int, str]
    units: dict[tuple[int, str], int]            # (union id, unit name) -> unit id
    default_org_id: int | None = None            # a base-union admin's own union
    seen: dict[str, int] = field(default_factory=dict)  # id number -> first row (duplicates in file)
    # unit name -> [(union id, unit id)] of the base unions in scope: a file naming only the 单位
    # (seed 003's 采集表) gets its union from the unit when the name is unique in the uploader's scope
    by_unit_name: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self):
        if not self.by_unit_name:
            for (org_id, name), unit_id in self.units.items():
                if org_id in self.union_names:
                    self.by_unit_name.setdefault(name, []).append((org_id, unit_id))


def make_context(session, job, actor) -> MemberImportContext:
    ids = org_ids_in_scope(actor)
    if ids is None:
        raise DomainError("您的账户未绑定工会，不能导入会员")
    unions = session.execute(select(Org.id, Org.name).where(Org.id.in_(ids), Org.level == OrgLevel.BASE)).all()
    districts = {o.id: o.district_code() for o in session.scalars(select(Org).where(Org.id.in_([u.id for u in unions])))}
    units = session.execute(select(Unit.id, Unit.org_id, Unit.name).where(Unit.org_id.in_(ids))).all()
    own = getattr(actor, "org_id", None)
    return MemberImportContext(
        unions={u.name: u.id for u in unions}, districts=districts, union_names={u.id: u.name for u in unions},
        units={(u.org_id, u.name): u.id for u in units},
        default_org_id=own if len(unions) == 1 and unions[0].id == own else None,
    )


def _choice(cells: dict, errors: dict, key: str, default):
    raw = text(cells.get(key))
    if not raw:
        return default
    if raw not in _LABEL[key]:
        errors[key] = f"「{raw}」不是可选值（{'、'.join(_LABEL[key])}）"
        return default
    return _LABEL[key][raw]


def parse_row(cells: dict, ctx: MemberImportContext) -> tuple[dict | None, dict]:
    """One sheet row → a member record, or the reasons per column. Pure."""
    errors: dict[str, str] = {}
    record: dict = {}
    choice = partial(_choice, cells, errors)
    record["id_type"] = choice("id_type", IdType.RESIDENT.value)
    resident = record["id_type"] == IdType.RESIDENT
    name = text(cells.get("name")).replace(" ", "") if resident else text(cells.get("name"))
    try:
        record["name"] = validate_chinese_name(name) if resident else name
        if not record["name"]:
            raise ValidationError("姓名不能为空")
    except ValidationError as err:
        errors["name"] = str(err)
    gender = choice("gender", None)
    try:
        birth = date_value(cells.get("birth_date"))
    except CellError as err:
        errors["birth_date"], birth = str(err), None
    try:
        number = id_text(cells.get("id_number"))
        if not number:
            raise ValidationError("证件号码不能为空")
        if resident:
            rid = parse_resident_id(number)
            number = rid.number
            if gender and gender != rid.gender:
                errors["gender"] = f"性别与身份证号不符（号码显示为{Gender(rid.gender).label}）"
            if birth and birth != rid.birth_date:
                errors["birth_date"] = f"出生日期与身份证号不符（号码显示为{rid.birth_date:%Y-%m-%d}）"
            gender, birth = rid.gender, rid.birth_date
        record["id_number"] = number
    except (ValidationError, CellError) as err:
        errors["id_number"] = str(err)
    record["gender"], record["birth_date"] = gender, birth
    raw_phone = text(cells.get("phone"))
    try:
        record["phone"] = validate_mobile(raw_phone) if raw_phone else None
    except ValidationError as err:
        errors["phone"] = str(err)
    migrant = text(cells.get("migrant_worker"))
    if migrant not in YES_NO:
        errors["migrant_worker"] = "请填写“是”或“否”"
    record["migrant_worker"] = YES_NO.get(migrant, False)
    record["position"] = text(cells.get("position")) or None
    try:
        record["join_date"] = date_value(cells.get("join_date"))
    except CellError as err:
        errors["join_date"] = str(err)
    union = text(cells.get("org"))
    unit = text(cells.get("unit"))
    org_id = ctx.unions.get(union) if union else ctx.default_org_id
    record["unit_id"] = None
    if org_id is None and not union and unit:
        candidates = ctx.by_unit_name.get(unit, [])
        if len(candidates) == 1:
            org_id, record["unit_id"] = candidates[0]
        elif candidates:
            errors["org"] = f"单位「{unit}」在您的范围内有 {len(candidates)} 个，请填写所属基层工会"
        else:  # a unit outside the uploader's scope reads exactly as one that does not exist
            errors["unit"] = f"单位「{unit}」不存在或不在您的管辖范围内，请先在单位信息中添加"
    elif org_id is None:
        errors["org"] = f"所属工会「{union}」不存在或不在您的管辖范围内" if union else "请填写所属基层工会"
    record["org_id"] = org_id
    if unit and org_id is not None and record["unit_id"] is None:
        record["unit_id"] = ctx.units.get((org_id, unit))
        if record["unit_id"] is None:
            errors["unit"] = f"单位「{unit}」未在「{ctx.union_names.get(org_id, '')}」下登记，请先在单位信息中添加"
    record["status"] = choice("status", MembershipStatus.ACTIVE.value)
    record["remark"] = text(cells.get("remark")) or None
    _citizen_card(cells, record, errors)
    number = record.get("id_number")
    if number and "id_number" not in errors:
        first = ctx.seen.setdefault(number, cells.get("_row_no", 0))
        if first != cells.get("_row_no", 0):
            errors["id_number"] = f"与本文件第{first}行的证件号码重复"
    return (None, errors) if errors else (record, {})


def _citizen_card(cells: dict, record: dict, errors: dict) -> None:
    """市民卡号 / 是否持有市民卡, each only when the file has its column: a number implies the card
    (a blank 是否 then reads 是); 否 beside a number contradicts it."""
    if "citizen_card_no" in cells:
        try:
            record["citizen_card_no"] = normalize_citizen_card(text(cells.get("citizen_card_no"))) or None
        except ValidationError as err:
            errors["citizen_card_no"] = str(err)
    if "has_citizen_card" in cells:
        raw = text(cells.get("has_citizen_card"))
        card = record.get("citizen_card_no")
        if raw not in YES_NO:
            errors["has_citizen_card"] = f"「{raw}」不是可选值，请填写“是”或“否”"
        elif raw == "否" and card:
            errors["has_citizen_card"] = "已填写市民卡号，「是否持有市民卡」不能为“否”"
        record["has_citizen_card"] = YES_NO.get(raw, False) or bool(card)


def _masked(key, value):
    if key == "phone":
        return mask_phone(value)
    if key == "id_number":
        return mask_id_number(value)
    return value if value is None or isinstance(value, (str, int, bool)) else str(value)


def write_batch(session, rows: list, ctx: MemberImportContext, actor) -> tuple[int, int, list]:
    """Upsert on the ID number: new members inserted, changed ones updated (audited with
    the changed fields), members of unions outside the row's union refused."""
    table = Member.__table__
    # one file, one set of columns: every record of the batch carries the same optional keys
    compared = _COMPARED + tuple(k for k in _OPTIONAL if rows and k in rows[0][1])
    numbers = [record["id_number"] for _row, record in rows]
    existing = {r.id_number: r for r in session.execute(
        select(table.c.id, table.c.id_number, table.c.org_id, *[table.c[k] for k in compared])
        .where(in_many(session, table.c.id_number, numbers)))}
    inserts, updates, audits, errors, status_changes = [], [], [], [], {}
    now = utcnow()
    for row_no, record in rows:
        old = existing.get(record["id_number"])
        if old is None:
            inserts.append({**record, "cert_status": "unverified", "created_at": now, "updated_at": now})
            continue
        if old.org_id != record["org_id"]:
            where = ctx.union_names.get(old.org_id)
            errors.append((row_no, {"id_number": f"该证件号码已在「{where}」登记，如需变更所属工会请办理转会"
                                    if where else "该证件号码已在其他工会登记（一人一会籍），请先办理转会"}))
            continue
        changes = {k: [_masked(k, getattr(old, k)), _masked(k, record[k])] for k in compared
                   if getattr(old, k) != record[k]}
        if "status" in changes:
            status_changes[old.id] = (old.status, record["status"])
        if changes:
            updates.append({"b_id": old.id, **{k: record[k] for k in compared}, "updated_at": now})
            audits.append(entry_values(AuditEvent.UPDATE, actor=actor, target_type="member", target_id=old.id,
                                       summary=f"导入更新会员: {', '.join(changes)}", detail=changes))
    if inserts:
        by_district: dict[str, list[dict]] = {}
        for record in inserts:
            by_district.setdefault(ctx.districts.get(record["org_id"], "000"), []).append(record)
        for district, records in by_district.items():
            for record, number in zip(records, reserve_member_numbers(session, district, len(records))):
                record["member_no"] = number
        fast_insert(session, table, inserts)
    if updates:
        session.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values({k: bindparam(k) for k in (*compared, "updated_at")}), updates)
    if audits:
        session.execute(insert(AuditLog), audits)
    if status_changes:  # 离会 / 转出 end the service cards in the same transaction
        membership_changed(session, status_changes, actor=actor)
    return len(inserts), len(updates), errors


MEMBER_IMPORT = imports.register(imports.ImportKind(
    key="members", label="会员信息采集", sheet=SHEET, make_context=make_context, parse_row=parse_row,
    write_batch=write_batch, view_name="MemberView",
))
