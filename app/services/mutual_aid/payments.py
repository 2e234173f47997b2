"""打款 (finance): payable kinds in one registry, the bank payment-batch xlsx, the bank's return file.

A *payable kind* says how to list its items waiting for payment in the actor's scope, find one by
its business number, and mark it paid or failed (through its own flow table). Claims (SL…) and
subsidy applications (ZY…, S001) register here with ``register_payable``. The batch export
goes through the one export path (``app/services/exports.py``); the return file through the one
import engine (``app/services/imports.py``, kind ``bank_return``): one row per number, 成功 → paid,
失败 → failed with the bank's reason; a number not waiting for payment is a rejected row.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services import exports, imports
from app.services.errors import DomainError
from app.xlsx.cells import CellError, date_value, text
from app.xlsx.writer import Column, SheetSpec
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import Claim, ClaimStatus, SubsidyApplication, SubsidyStatus

from . import claims as claim_svc
from . import subsidies as subsidy_svc


@dataclass(frozen=True)
class PayableItem:
    kind: str
    id: int
    number: str
    holder: str
    bank: str
    branch: str
    account: str
    amount: Decimal
    since: datetime

    @property
    def account_masked(self) -> str:
        """As the claim pages show an account (first 4, last 4): the batch file alone carries it whole."""
        value = self.account
        return value if len(value) <= 8 else value[:4] + "*" * (len(value) - 8) + value[-4:]

    @property
    def age_hours(self) -> int:
        return int((utcnow() - self.since).total_seconds() // 3600)


@dataclass(frozen=True)
class PayableKind:
    key: str
    label: str
    # (session, actor) -> [PayableItem] waiting for payment in scope
    pending: Callable[[Session, Any], list]
    # (session, number, actor) -> id of the item in scope waiting for payment, or None
    find_pending: Callable[[Session, str, Any], int | None]
    # (session, id, actor, paid_on, reference, batch) -> None   (no commit)
    mark_paid: Callable[..., Any]
    # (session, id, actor, reason) -> None   (no commit)
    mark_failed: Callable[..., Any]
    prefix: str = ""   # business numbers of this kind start with it (the return file names no kind)


PAYABLES: dict[str, PayableKind] = {}


def register_payable(kind: PayableKind) -> PayableKind:
    PAYABLES[kind.key] = kind
    return kind


def kind_of_number(number: str) -> PayableKind | None:
    for kind in PAYABLES.values():
        if kind.prefix and number.startswith(kind.prefix):
            return kind
    return None


# --- claims as a payable kind ---------------------------------------------------------------
def _claim_items(session: Session, actor) -> list[PayableItem]:
    rows = session.scalars(select(Claim).where(Claim.status == ClaimStatus.PENDING_PAYMENT,
                                               claim_svc.claim_scope(actor)).order_by(Claim.status_at, Claim.id))
    return [PayableItem("claim", c.id, c.number, c.payee_name or "", c.payee_bank or "", c.payee_branch or "",
                        c.payee_account or "", c.amount, c.status_at) for c in rows]


def _claim_find(session: Session, number: str, actor) -> int | None:
    return session.scalar(select(Claim.id).where(Claim.number == number, Claim.status == ClaimStatus.PENDING_PAYMENT,
                                                 claim_svc.claim_scope(actor)))


register_payable(PayableKind(
    key="claim", label="申领案件", pending=_claim_items, find_pending=_claim_find, prefix="SL",
    mark_paid=lambda s, i, actor, paid_on, reference, batch=None: claim_svc.mark_paid(
        s, i, actor, paid_on=paid_on, reference=reference, batch=batch),
    mark_failed=lambda s, i, actor, reason: claim_svc.mark_failed(s, i, actor, reason=reason),
))


# --- subsidy applications (S001) as a payable kind ------------------------------------------
def _subsidy_scope(actor):
    return org_scope_clause(SubsidyApplication.org_id, actor)


def _subsidy_items(session: Session, actor) -> list[PayableItem]:
    rows = session.scalars(select(SubsidyApplication).where(
        SubsidyApplication.status == SubsidyStatus.APPROVED, _subsidy_scope(actor))
        .order_by(SubsidyApplication.status_at, SubsidyApplication.id))
    return [PayableItem("subsidy", a.id, a.number, a.payee_name or "", a.payee_bank or "", "",
                        a.payee_account or "", a.amount, a.status_at) for a in rows]


def _subsidy_find(session: Session, number: str, actor) -> int | None:
    return session.scalar(select(SubsidyApplication.id).where(
        SubsidyApplication.number == number, SubsidyApplication.status == SubsidyStatus.APPROVED,
        _subsidy_scope(actor)))


def failed_subsidies(session: Session, actor) -> list[SubsidyApplication]:
    """打款失败 applications in scope: waiting for the worker to correct the account (S001:L73)."""
    return list(session.scalars(select(SubsidyApplication).where(
        SubsidyApplication.status == SubsidyStatus.PAY_FAILED, _subsidy_scope(actor))
        .order_by(SubsidyApplication.status_at, SubsidyApplication.id)))


# the worker's 站内信 + SMS are those of the one-by-one 已打款 / 打款失败 steps (subsidies._step)
register_payable(PayableKind(
    key="subsidy", label="补助申请", pending=_subsidy_items, find_pending=_subsidy_find, prefix="ZY",
    mark_paid=lambda s, i, actor, paid_on, reference, batch=None: subsidy_svc.mark_paid(
        s, i, actor, paid_on=paid_on, reference=reference, batch=batch),
    mark_failed=lambda s, i, actor, reason: subsidy_svc.mark_failed(s, i, actor, reason=reason),
))


# --- one by one (the queue page) ------------------------------------------------------------
def pay_one(session: Session, kind_key: str, item_id: int, actor, *, paid_on: date | None, reference: str) -> None:
    """打款成功 of one item. Commits.

    Raises:
        NotFoundError, InvalidTransitionError, DomainError.
    """
    kind = PAYABLES.get(kind_key) or _unknown()
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("请填写银行流水号")
    kind.mark_paid(session, item_id, actor, paid_on or _today(), reference, None)
    session.commit()


def fail_one(session: Session, kind_key: str, item_id: int, actor, *, reason: str) -> None:
    """打款失败 of one item with the reason. Commits."""
    kind = PAYABLES.get(kind_key) or _unknown()
    kind.mark_failed(session, item_id, actor, reason)
    session.commit()


def _unknown():
    raise DomainError("不支持的付款类型")


def _today() -> date:
    return utcnow().astimezone(DISPLAY_TZ).date()


# --- the bank batch -------------------------------------------------------------------------
BATCH_FIELDS = [exports.ExportField(t, None) for t in
                ("业务编号", "收款人", "开户银行", "开户网点", "收款账号", "金额（元）", "业务类型")]


def pending_items(session: Session, actor, kinds: list[str] | None = None) -> list[PayableItem]:
    out = []
    for key, kind in PAYABLES.items():
        if kinds is None or key in kinds:
            out.extend(kind.pending(session, actor))
    return out


def write_batch_file(session: Session, path, actor) -> int:
    """The bank payment batch (xlsx) of every item waiting for payment in scope; audited. Returns the count."""
    items = pending_items(session, actor)
    rows = ((i.number, i.holder, i.bank, i.branch, i.account, i.amount, PAYABLES[i.kind].label) for i in items)
    count = exports.write_export(path, "打款批次", BATCH_FIELDS, rows)
    exports.audit_export(session, actor=actor, title="打款批次", count=count, args={})
    return count


# --- the bank's return file (import kind) --------------------------------------------------
RETURN_COLUMNS = [
    Column("number", "业务编号", required=True, text=True, width=22),
    Column("result", "打款结果", required=True, choices=["成功", "失败"]),
    Column("reference", "银行流水号", text=True, width=22, note="成功时必填"),
    Column("paid_on", "打款日期", note="格式 2025-03-01；留空为今天"),
    Column("reason", "失败原因", width=30, note="失败时必填"),
]
RETURN_SHEET = SheetSpec("银行回盘", RETURN_COLUMNS, instructions=[
    "每行一笔：业务编号为打款批次中的编号；打款结果填“成功”或“失败”。",
    "成功须填银行流水号；失败须填失败原因：申领案件退回经办人修正收款信息，补助申请通知职工修正收款账户。",
    "只处理待打款的业务；已处理的编号会列入导入结果文件。",
])


def _return_context(session, job, actor):
    return {"seen": {}}


def _parse_return(cells: dict, ctx) -> tuple[dict | None, dict]:
    errors, record = {}, {}
    number = text(cells.get("number")).strip()
    if not number:
        errors["number"] = "请填写业务编号"
    elif number in ctx["seen"]:
        errors["number"] = f"与本文件第{ctx['seen'][number]}行的编号重复"
    else:
        ctx["seen"][number] = cells.get("_row_no", 0)
    record["number"] = number
    result = text(cells.get("result")).strip()
    if result not in ("成功", "失败"):
        errors["result"] = "打款结果须为“成功”或“失败”"
    record["ok"] = result == "成功"
    record["reference"] = text(cells.get("reference")).strip()[:60]
    record["reason"] = text(cells.get("reason")).strip()[:300]
    if result == "成功" and not record["reference"]:
        errors["reference"] = "打款成功须填写银行流水号"
    if result == "失败" and not record["reason"]:
        errors["reason"] = "打款失败须填写失败原因"
    try:
        record["paid_on"] = date_value(cells.get("paid_on"))
    except CellError:
        errors["paid_on"] = "打款日期格式不正确（如 2025-03-01）"
    return (None, errors) if errors else (record, {})


def _write_return(session: Session, rows: list, ctx, actor) -> tuple[int, int, list]:
    done, errors = 0, []
    batch = f"HP{utcnow().astimezone(DISPLAY_TZ):%Y%m%d%H%M%S}"
    for row_no, record in rows:
        kind = kind_of_number(record["number"])
        item_id = kind.find_pending(session, record["number"], actor) if kind else None
        if item_id is None:
            errors.append((row_no, {"number": "该编号不是待打款的业务（或不在您的管辖范围内）"}))
            continue
        try:
            if record["ok"]:
                kind.mark_paid(session, item_id, actor, record["paid_on"] or _today(), record["reference"], batch)
            else:
                kind.mark_failed(session, item_id, actor, record["reason"])
        except DomainError as err:
            errors.append((row_no, {imports.ROW_ERROR: err.message}))
            continue
        done += 1
    return 0, done, errors


BANK_RETURN = imports.register(imports.ImportKind(
    key="bank_return", label="银行回盘导入", sheet=RETURN_SHEET, make_context=_return_context,
    parse_row=_parse_return, write_batch=_write_return, view_name="ClaimView", permission="can_pay",
))
