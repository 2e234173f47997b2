"""The import kinds of the batch: ``card_application`` (工会会员信息汇总表, S002:L32; its
pre-validation S002:L34 is the member import's checks, and its rows upsert the members, keeping or
reserving their member numbers) and ``card_bank_result`` (the bank's card serial per ID number)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import fast_insert, in_many
from app.services import imports, member_import, review_flow
from app.services.errors import DomainError, NotFoundError
from app.validators import ValidationError, parse_resident_id
from app.xlsx.cells import CellError, id_text, text
from app.xlsx.writer import Column, SheetSpec
from models.members import Member, MembershipStatus
from models.service_cards import (
    ACTIVE_CARD,
    CARD_FLOW,
    BatchStatus,
    CardApplication,
    CardBatch,
    CardStatus,
    ServiceCard,
)

from .batches import (
    APPLICATION_KIND,
    BANK_RESULT_KIND,
    SUMMARY_KIND,
    finish_if_issued,
    refresh_count,
    scoped_batch,
)

# the member import's columns (same checks), the phone required for the bank, plus the address
COLUMNS = [Column(c.key, c.title, required=True if c.key == "phone" else c.required, choices=c.choices,
                  text=c.text, width=c.width, note="11位手机号（银行开户必填）" if c.key == "phone" else c.note)
           for c in member_import.COLUMNS if c.key not in ("status",)]
COLUMNS.insert(6, Column("address", "联系地址", width=30))
SHEET = SheetSpec("工会会员信息汇总表", COLUMNS, instructions=[
    "每行一名申请办理会员服务卡的会员；导入即预校验（与会员信息采集相同的校验），未通过的行可下载「导出结果」改正后重新导入。",
    "已登记的会员按本表更新信息并保留原会员编号；未登记的新增并生成会员编号（前3位为区县局(产业)工会编号）。",
    "所属工会可不填（默认为本批次的基层工会）。",
])


@dataclass
class ApplicationContext:
    batch_id: int
    org_id: int
    members: member_import.MemberImportContext
    seen: dict = field(default_factory=dict)


def _editable_batch(session, batch_id, actor) -> CardBatch:
    batch = scoped_batch(session, batch_id, actor)
    if batch.status != BatchStatus.DRAFT:
        raise DomainError(f"批次当前为「{batch.status_label}」，不能导入会员", code="not_editable")
    return batch


def check_params(session: Session, actor, params: dict) -> dict:
    batch = _editable_batch(session, params.get("batch_id"), actor)
    return {"batch_id": batch.id}


def make_context(session: Session, job, actor) -> ApplicationContext:
    batch = _editable_batch(session, (job.params or {}).get("batch_id"), actor)
    members = member_import.make_context(session, job, actor)
    # lines belong to the batch's union only
    members.unions = {n: i for n, i in members.unions.items() if i == batch.org_id}
    members.default_org_id = batch.org_id
    return ApplicationContext(batch_id=batch.id, org_id=batch.org_id, members=members)


def parse_row(cells: dict, ctx: ApplicationContext):
    """The member import's checks, plus a phone (the bank opens the account with it). Pure."""
    record, errors = member_import.parse_row({**cells, "status": None}, ctx.members)
    errors = dict(errors)
    if not text(cells.get("phone")) and "phone" not in errors:
        errors["phone"] = "手机号不能为空（银行开户必填）"
    if errors:
        return None, errors
    record["address"] = text(cells.get("address"))[:255] or None
    return record, {}


def write_batch(session: Session, rows: list, ctx: ApplicationContext, actor):
    """Upsert the members (member import), then one line per member in the batch; a member who
    already holds an active card, or whose membership has ended, is refused."""
    address = {row_no: record.pop("address", None) for row_no, record in rows}
    # an application never changes the membership status (a retired member stays retired and is refused)
    known = dict(session.execute(select(Member.id_number, Member.status).where(
        in_many(session, Member.id_number, [r["id_number"] for _n, r in rows]))).all())
    for _row_no, record in rows:
        record["status"] = known.get(record["id_number"], record["status"])
    created, updated, errors = member_import.write_batch(session, rows, ctx.members, actor)
    failed = {row_no for row_no, _e in errors}
    ok = [(row_no, record) for row_no, record in rows if row_no not in failed]
    numbers = [record["id_number"] for _r, record in ok]
    members = {m.id_number: m for m in session.execute(
        select(Member.id, Member.id_number, Member.member_no, Member.status)
        .where(in_many(session, Member.id_number, numbers)))} if numbers else {}
    ids = [m.id for m in members.values()]
    carded = set(session.scalars(select(ServiceCard.member_id).where(
        ServiceCard.member_id.in_(ids), ServiceCard.status.in_(ACTIVE_CARD)))) if ids else set()
    in_batch = set(session.scalars(select(CardApplication.member_id).where(
        CardApplication.batch_id == ctx.batch_id))) if ids else set()
    lines = []
    for row_no, record in ok:
        member = members.get(record["id_number"])
        if member is None:
            errors.append((row_no, {"id_number": "会员未能保存"}))
        elif member.status != MembershipStatus.ACTIVE:
            errors.append((row_no, {imports.ROW_ERROR: f"会籍状态为「{MembershipStatus.label_of(member.status)}」，不能办卡"}))
        elif member.id in carded:
            errors.append((row_no, {imports.ROW_ERROR: "该会员已持有会员服务卡（一人一卡），挂失或损坏请办理补卡"}))
        elif member.id in in_batch:
            continue  # re-importing the same file changes nothing
        else:
            in_batch.add(member.id)
            lines.append({"batch_id": ctx.batch_id, "member_id": member.id, "name": record["name"],
                          "id_type": record["id_type"], "id_number": record["id_number"], "phone": record["phone"],
                          "gender": record["gender"], "birth_date": record["birth_date"],
                          "address": address.get(row_no), "member_no": member.member_no})
    fast_insert(session, CardApplication.__table__, lines)
    batch = session.get(CardBatch, ctx.batch_id)
    refresh_count(session, batch)
    return len(lines), 0, errors


CARD_APPLICATION_IMPORT = imports.register(imports.ImportKind(
    key=APPLICATION_KIND, label="工会会员信息汇总表", sheet=SHEET, make_context=make_context, parse_row=parse_row,
    write_batch=write_batch, view_name="CardBatchView", permission="can_import", check_params=check_params,
))


# --- the bank's result: 卡号 per ID number --------------------------------------------------
BANK_COLUMNS = [
    Column("name", "姓名", required=True),
    Column("id_number", "证件号码", required=True, text=True, width=22),
    Column("serial", "卡号", required=True, text=True, width=24, note="银行制卡的会员服务卡卡号"),
    Column("bank_account", "银行账号", text=True, width=24),
]
BANK_SHEET = SheetSpec("银行制卡结果", BANK_COLUMNS, instructions=["银行返回的制卡结果：每行一张卡，以证件号码对应批次中的会员。"])


@dataclass
class BankContext:
    batch_id: int
    seen: dict = field(default_factory=dict)


def _opening_batch(session, batch_id, actor) -> CardBatch:
    batch = scoped_batch(session, batch_id, actor)
    if batch.status != BatchStatus.OPENING:
        raise DomainError(f"批次当前为「{batch.status_label}」，只有「开户中」的批次可导入银行制卡结果")
    return batch


def check_bank_params(session, actor, params):
    return {"batch_id": _opening_batch(session, params.get("batch_id"), actor).id}


def make_bank_context(session, job, actor):
    return BankContext(batch_id=_opening_batch(session, (job.params or {}).get("batch_id"), actor).id)


def parse_bank_row(cells: dict, ctx: BankContext):
    errors, record = {}, {}
    try:
        number = id_text(cells.get("id_number"))
        record["id_number"] = parse_resident_id(number).number if len(number) == 18 else number.upper()
        if not record["id_number"]:
            raise ValidationError("证件号码不能为空")
    except (ValidationError, CellError) as err:
        errors["id_number"] = str(err)
    serial = id_text(cells.get("serial")) if cells.get("serial") is not None else ""
    if not serial.isalnum() or not 6 <= len(serial) <= 32:
        errors["serial"] = "卡号须为6至32位字母或数字"
    record["serial"] = serial
    account = text(cells.get("bank_account")).replace(" ", "")
    if account and (not account.isdigit() or len(account) > 32):
        errors["bank_account"] = "银行账号须为数字"
    record["bank_account"] = account or None
    if "serial" not in errors:
        first = ctx.seen.setdefault(serial, cells.get("_row_no", 0))
        if first != cells.get("_row_no", 0):
            errors["serial"] = f"与本文件第{first}行的卡号重复"
    return (None, errors) if errors else (record, {})


def write_bank_batch(session, rows, ctx: BankContext, actor):
    """Each row's card (开户中, in the batch, by ID number) gets its serial: 开户中 → 已制卡 through the
    review-flow engine; when no card waits any more the batch becomes 已制卡."""
    numbers = [r["id_number"] for _n, r in rows]
    cards = {number: card for number, card in session.execute(
        select(CardApplication.id_number, ServiceCard)
        .join(ServiceCard, (ServiceCard.member_id == CardApplication.member_id)
              & (ServiceCard.batch_id == CardApplication.batch_id))
        .where(CardApplication.batch_id == ctx.batch_id, in_many(session, CardApplication.id_number, numbers)))}
    used = set(session.scalars(select(ServiceCard.serial).where(
        in_many(session, ServiceCard.serial, [r["serial"] for _n, r in rows]))))
    errors, updated = [], 0
    for row_no, record in rows:
        card = cards.get(record["id_number"])
        if card is None:
            errors.append((row_no, {"id_number": "本批次没有该证件号码的会员"}))
        elif card.serial == record["serial"]:
            continue  # the same result imported twice
        elif card.status != CardStatus.OPENING:
            errors.append((row_no, {imports.ROW_ERROR: f"该会员的卡当前为「{card.status_label}」，不能再录入卡号"}))
        elif record["serial"] in used:
            errors.append((row_no, {"serial": "该卡号已被其他会员服务卡使用"}))
        else:
            review_flow.apply_transition(session, ServiceCard, card.id, "made", flow=CARD_FLOW, actor=actor,
                                         status_labels=CardStatus)
            card.serial, card.bank_account = record["serial"], record["bank_account"]
            used.add(record["serial"])
            updated += 1
    session.flush()
    finish_if_issued(session, session.get(CardBatch, ctx.batch_id), actor)
    return 0, updated, errors


CARD_BANK_RESULT_IMPORT = imports.register(imports.ImportKind(
    key=BANK_RESULT_KIND, label="银行制卡结果", sheet=BANK_SHEET, make_context=make_bank_context,
    parse_row=parse_bank_row, write_batch=write_bank_batch, view_name="CardBatchView", permission="can_bank",
    check_params=check_bank_params,
))


# --- 基层工会信息汇总表 (S002:L31): one row, the batch's union summary -------------------------
SUMMARY_COLUMNS = [
    Column("union_name", "基层工会名称", required=True, width=30),
    Column("union_code", "工会编号", text=True),
    Column("union_uscc", "统一社会信用代码", text=True, width=22),
    Column("contact", "联系人"),
    Column("phone", "联系电话", text=True),
    Column("address", "地址", width=30),
    Column("declared_count", "会员人数", note="本次申请办卡的会员人数"),
]
SUMMARY_SHEET = SheetSpec("基层工会信息汇总表", SUMMARY_COLUMNS, instructions=["只填写一行：本基层工会的信息。"])


def parse_summary_row(cells: dict, ctx: ApplicationContext):
    from app.validators import validate_uscc

    errors, record = {}, {}
    for key in ("union_name", "union_code", "contact", "address"):
        record[key] = text(cells.get(key))[:120] or None
    if not record["union_name"]:
        errors["union_name"] = "基层工会名称不能为空"
    elif record["union_name"] != ctx.members.union_names.get(ctx.org_id):
        errors["union_name"] = f"须为本批次的基层工会「{ctx.members.union_names.get(ctx.org_id, '')}」"
    uscc = text(cells.get("union_uscc"))
    try:
        record["union_uscc"] = validate_uscc(uscc) if uscc else None
    except ValidationError as err:
        errors["union_uscc"] = str(err)
    phone = text(cells.get("phone"))
    record["phone"] = phone[:20] or None
    if phone and not (phone.replace("-", "").isdigit() and 7 <= len(phone) <= 20):
        errors["phone"] = "联系电话须为数字（可含“-”）"
    count = text(cells.get("declared_count"))
    if count and not (count.isdigit() and len(count) <= 7):
        errors["declared_count"] = "会员人数须为整数"
    record["declared_count"] = int(count) if count.isdigit() and len(count) <= 7 else None
    if not errors and ctx.seen.setdefault("row", cells.get("_row_no")) != cells.get("_row_no"):
        errors[imports.ROW_ERROR] = "基层工会信息汇总表只填写一行"
    return (None, errors) if errors else (record, {})


def write_summary_batch(session, rows, ctx: ApplicationContext, actor):
    batch = session.get(CardBatch, ctx.batch_id)
    for _row_no, record in rows:
        for key, value in record.items():
            if value is not None:
                setattr(batch, key, value)
    return 0, len(rows), []


CARD_UNION_SUMMARY_IMPORT = imports.register(imports.ImportKind(
    key=SUMMARY_KIND, label="基层工会信息汇总表", sheet=SUMMARY_SHEET, make_context=make_context,
    parse_row=parse_summary_row, write_batch=write_summary_batch, view_name="CardBatchView", permission="can_import",
    check_params=check_params,
))


def submit_file(session: Session, batch_id: int, *, kind: str, actor, file_name: str, stream):
    """Upload a 工会会员信息汇总表, a 基层工会信息汇总表 or a bank result for a batch (the job runs in the worker)."""
    if kind not in (APPLICATION_KIND, BANK_RESULT_KIND, SUMMARY_KIND):
        raise NotFoundError("不支持的导入类型")
    batch = scoped_batch(session, batch_id, actor)
    return imports.submit_import(session, actor=actor, kind_key=kind, file_name=file_name, stream=stream,
                                 params={"batch_id": batch.id}, org_id=batch.org_id)
