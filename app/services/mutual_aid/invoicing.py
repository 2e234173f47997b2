"""开票录入, 结算期 and 到账确认 (S004:L14, L67–76).

C3: when a plan line has both normal and high-risk persons, every invoice line's per-capita
(amount ÷ persons, compared exactly) ≤ high-risk price × shares; a single-group line's per-capita
is that group's price × shares. Σ lines = the line's amount and Σ persons = its persons, so
Σ invoices = payable (A-6).
C4: period ``YYYY-MM`` runs from the day after the previous month's settlement day 00:00 to the
day's 24:00, Beijing time (the day is ``SETTLEMENT_DAY``, 25). After settlement no invoice of
the period is created, changed or issued. An enrollment belongs to the period of its 到账确认, or
of its invoice submission while unpaid (A-7).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services import attachments, audit, outbox, review_flow
from app.services.errors import DomainError, NotFoundError
from app.validators import ValidationError
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import (
    ENROLLMENT_FLOW,
    Enrollment,
    EnrollmentStatus,
    InsuredPerson,
    InvoiceRequest,
    InvoiceStatus,
    InvoiceType,
    PeriodStatus,
    SettlementPeriod,
)

from .enrollment import enrollment_scope, line_figures, payable_of, scoped_enrollment
from .plans import coverage_for, money
from .registration import validate_email


# --- C4: settlement periods ---------------------------------------------------------------
def settlement_day() -> int:
    return int(current_app.config.get("SETTLEMENT_DAY", 25))


def period_of(at: datetime, day: int | None = None) -> str:
    """The settlement period of an instant: after the day's 24:00 (Beijing) it is next month's."""
    day = day or settlement_day()
    local = at.astimezone(DISPLAY_TZ)
    year, month = local.year, local.month
    if local.day > day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def closes_at(month: str, day: int | None = None) -> datetime:
    """When ``month`` closes: its settlement day's 24:00 in Beijing (aware)."""
    day = day or settlement_day()
    year, mon = int(month[:4]), int(month[5:7])
    return datetime(year, mon, day, tzinfo=DISPLAY_TZ) + timedelta(days=1)


def period_label(month: str, day: int | None = None) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月，{int(month[5:7])}月{day or settlement_day()}日结算"


def ensure_period(session: Session, month: str) -> SettlementPeriod:
    period = session.get(SettlementPeriod, month)
    if period is None:
        period = SettlementPeriod(month=month, closes_at=closes_at(month), status=PeriodStatus.OPEN)
        session.add(period)
        session.flush()
    return period


def _is_settled(session: Session, month: str) -> bool:
    period = session.get(SettlementPeriod, month)
    return period is not None and period.status == PeriodStatus.SETTLED


def check_period_open(session: Session, enrollment: Enrollment, now: datetime | None = None) -> str:
    """The enrollment's period (its own, or now's while it has none), refused when settled.

    Raises:
        DomainError ``period_settled``: "该参保单所属结算期（2025年1月，1月25日结算）已结算，不再开具发票".
    """
    month = enrollment.settlement_month or period_of(now or utcnow())
    if _is_settled(session, month):
        raise DomainError(f"该参保单所属结算期（{period_label(month)}）已结算，不再开具发票", code="period_settled")
    return month


def settle_period(session: Session, month: str, *, actor, now: datetime | None = None) -> SettlementPeriod:
    """财务结算: the period is settled once its day's 24:00 (Beijing) has passed. Commits.

    Raises:
        DomainError: not closed yet, or settled already.
    """
    now = now or utcnow()
    period = ensure_period(session, month)
    if period.status == PeriodStatus.SETTLED:
        raise DomainError(f"结算期 {month} 已结算", code="period_settled")
    if now < period.closes_at:
        local = period.closes_at.astimezone(DISPLAY_TZ) - timedelta(days=1)
        raise DomainError(f"结算期 {month} 须在 {local:%m月%d日} 24:00 之后结算", code="period_not_due")
    period.status, period.settled_at, period.settled_by_id = PeriodStatus.SETTLED, now, getattr(actor, "id", None)
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="settlement_period", target_id=month,
                 summary=f"结算期 {month} 已结算")
    session.commit()
    return period


def settle_due_periods(session: Session, now: datetime | None = None) -> int:
    """Beat job: settle every open period whose close has passed (and create last month's if missing)."""
    now = now or utcnow()
    previous = period_of(now - timedelta(days=31))
    ensure_period(session, previous)
    due = session.scalars(select(SettlementPeriod).where(SettlementPeriod.status == PeriodStatus.OPEN,
                                                         SettlementPeriod.closes_at <= now)).all()
    for period in due:
        period.status, period.settled_at = PeriodStatus.SETTLED, now
        audit.record(session, AuditEvent.ACTION, target_type="settlement_period", target_id=period.month,
                     summary=f"结算期 {period.month} 到期自动结算")
    session.commit()
    return len(due)


# --- C3: invoice lines -----------------------------------------------------------------------
def check_line_price(*, amount: Decimal, persons: int, shares: int, price, price_high, n_normal: int,
                     n_high: int) -> None:
    """C3 for one invoice line of a plan line (exact quotients, the display rounded).

    Raises:
        DomainError ``price_cap``: "人均单价 101.00 元超过上限 100.00 元（高危会费单价 50.00 × 2 份）".
    """
    if n_normal and n_high:
        cap = money(Decimal(str(price_high)) * shares)
        if amount > cap * persons:
            raise DomainError(f"人均单价 {money(amount / persons)} 元超过上限 {cap} 元"
                              f"（高危会费单价 {money(price_high)} × {shares} 份）", code="price_cap")
        return
    group_price, label = (price_high, "高危会费单价") if n_high else (price, "会费单价")
    unit = money(Decimal(str(group_price)) * shares)
    if amount != unit * persons:
        raise DomainError(f"该保障活动只有{'高危' if n_high else '普通'}人群，人均单价须为 {unit} 元"
                          f"（{label} {money(group_price)} × {shares} 份），本行为 {money(amount / persons)} 元",
                          code="price_fixed")


def _invoicing(session: Session, enrollment_id: int, actor, now=None) -> Enrollment:
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    if enrollment.status != EnrollmentStatus.INVOICING:
        raise DomainError(f"参保单当前为「{enrollment.status_label}」，不能修改开票信息", code="not_invoicing")
    check_period_open(session, enrollment, now)
    return enrollment


def _clean_invoice(fields: dict) -> dict:
    out = {}
    out["invoice_type"] = fields.get("invoice_type") or InvoiceType.NORMAL
    if out["invoice_type"] not in {t.value for t in InvoiceType}:
        raise DomainError("请选择发票类型")
    out["title"] = (fields.get("title") or "").strip()[:120]
    if not out["title"]:
        raise DomainError("请填写发票抬头", field="title")
    out["tax_number"] = (fields.get("tax_number") or "").strip().upper()[:20] or None
    if out["invoice_type"] == InvoiceType.SPECIAL and not out["tax_number"]:
        raise DomainError("开具专用发票须填写纳税人识别号", field="tax_number")
    try:
        out["email"] = validate_email(fields.get("email"))
    except ValidationError as err:
        raise DomainError(str(err), field="email") from None
    try:
        out["persons"] = int(fields.get("persons"))
        out["amount"] = money(Decimal(str(fields.get("amount")).replace(",", "").strip()))
    except (TypeError, ValueError, InvalidOperation):
        raise DomainError("请填写开票人数（整数）和金额", field="amount") from None
    if out["persons"] <= 0:
        raise DomainError("开票人数须大于0", field="persons")
    if out["amount"] <= 0:
        raise DomainError("开票金额须大于0", field="amount")
    out["remark"] = (fields.get("remark") or "").strip()[:255] or None
    return out


def save_invoice(session: Session, enrollment_id: int, *, actor, fields: dict, invoice_id: int | None = None,
                 now: datetime | None = None) -> InvoiceRequest:
    """新增 / 修改开票信息 while 待开票 and the period is open (C4); each line checked against C3. Commits.

    Raises:
        NotFoundError, DomainError.
    """
    enrollment = _invoicing(session, enrollment_id, actor, now)
    clean = _clean_invoice(fields)
    figures = {f.line.id: f for f in line_figures(session, enrollment)}
    try:
        line_id = int(fields.get("enrollment_plan_id") or 0)
    except (TypeError, ValueError):
        line_id = 0
    figure = figures.get(line_id) or (next(iter(figures.values())) if len(figures) == 1 and not line_id else None)
    if figure is None:
        raise DomainError("请选择开票的保障活动", field="enrollment_plan_id")
    plan = figure.line.plan
    check_line_price(amount=clean["amount"], persons=clean["persons"], shares=figure.line.shares, price=plan.price,
                     price_high=plan.price_high, n_normal=figure.normal, n_high=figure.high)
    if invoice_id:
        invoice = session.get(InvoiceRequest, invoice_id)
        if invoice is None or invoice.enrollment_id != enrollment.id:
            raise NotFoundError("开票信息不存在")
    else:
        invoice = InvoiceRequest(enrollment_id=enrollment.id, status=InvoiceStatus.DRAFT)
        session.add(invoice)
    for key, value in clean.items():
        setattr(invoice, key, value)
    invoice.enrollment_plan_id = figure.line.id
    session.commit()
    return invoice


def delete_invoice(session: Session, enrollment_id: int, invoice_id: int, *, actor, now=None) -> None:
    enrollment = _invoicing(session, enrollment_id, actor, now)
    invoice = session.get(InvoiceRequest, invoice_id)
    if invoice is None or invoice.enrollment_id != enrollment.id:
        raise NotFoundError("开票信息不存在")
    session.delete(invoice)
    session.commit()


def invoices_of(session: Session, enrollment: Enrollment) -> list[InvoiceRequest]:
    return list(session.scalars(select(InvoiceRequest).where(InvoiceRequest.enrollment_id == enrollment.id)
                                .order_by(InvoiceRequest.id)))


def invoice_problems(session: Session, enrollment: Enrollment) -> list[str]:
    """What stops 提交: per plan line Σ amounts = its amount and Σ persons = its persons (C3)."""
    problems, invoices = [], invoices_of(session, enrollment)
    if not invoices:
        return ["请先新增开票信息"]
    for figure in line_figures(session, enrollment):
        lines = [i for i in invoices if i.enrollment_plan_id == figure.line.id]
        amount, persons = money(sum((i.amount for i in lines), Decimal(0))), sum(i.persons for i in lines)
        name = figure.line.plan.name
        if persons != figure.persons:
            problems.append(f"「{name}」开票人数合计 {persons} 人，应为参保人数 {figure.persons} 人")
        if amount != figure.amount:
            problems.append(f"「{name}」开票金额合计 {amount} 元，应为应缴金额 {figure.amount} 元")
    return problems


def submit_invoices(session: Session, enrollment_id: int, *, actor, now: datetime | None = None) -> Enrollment:
    """提交: 待开票 → 待到账确认 when Σ invoices = payable; the enrollment takes now's period. Commits.

    Raises:
        NotFoundError, DomainError (sums, C3, C4), InvalidTransitionError.
    """
    now = now or utcnow()
    enrollment = _invoicing(session, enrollment_id, actor, now)
    problems = invoice_problems(session, enrollment)
    if problems:
        raise DomainError("；".join(problems), code="invoice_sums")
    if payable_of(session, enrollment) != money(enrollment.payable or 0):
        raise DomainError("参保人员已变化，应缴金额与初审时不一致，请联系办事处", code="payable_changed")
    month = period_of(now)
    ensure_period(session, month)
    review_flow.apply_transition(session, Enrollment, enrollment.id, "submit_invoices", flow=ENROLLMENT_FLOW,
                                 actor=actor, status_labels=EnrollmentStatus, scope_clause=enrollment_scope(actor))
    enrollment.settlement_month, enrollment.invoices_submitted_at = month, now
    for invoice in invoices_of(session, enrollment):
        invoice.status, invoice.settlement_month = InvoiceStatus.SUBMITTED, month
    session.commit()
    return enrollment


def confirm_payment(session: Session, enrollment_id: int, *, actor, amount, paid_on: date, reference: str,
                    now: datetime | None = None) -> Enrollment:
    """到账确认 by finance: the amount equals the payable, the value date is not in the future; the
    enrollment becomes 已生效 in the period of this instant, with coverage dates on every person
    (per plan rule) and the confirmation letter v1 (未打印). The submitter may not confirm. Commits.

    Raises:
        NotFoundError, DomainError, InvalidTransitionError, SelfApprovalError.
    """
    from . import letters, workers

    now = now or utcnow()
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    try:
        paid = money(Decimal(str(amount).replace(",", "").strip()))
    except (InvalidOperation, ValueError):
        raise DomainError("请填写到账金额", field="amount") from None
    if paid != money(enrollment.payable or 0):
        raise DomainError(f"到账金额 {paid} 元与应缴金额 {money(enrollment.payable or 0)} 元不一致，"
                          "请核实或退回单位", code="amount_mismatch")
    if paid_on is None or paid_on > now.astimezone(DISPLAY_TZ).date():
        raise DomainError("请填写到账日期（不能晚于今天）", field="paid_on")
    reference = (reference or "").strip()[:60]
    if not reference:
        raise DomainError("请填写银行流水号", field="reference")
    month = period_of(now)
    if _is_settled(session, month):
        raise DomainError(f"结算期（{period_label(month)}）已结算", code="period_settled")
    review_flow.apply_transition(session, Enrollment, enrollment.id, "confirm_payment", flow=ENROLLMENT_FLOW,
                                 actor=actor, status_labels=EnrollmentStatus, scope_clause=enrollment_scope(actor))
    ensure_period(session, month)
    enrollment.settlement_month, enrollment.paid_amount, enrollment.paid_on = month, paid, paid_on
    enrollment.bank_reference, enrollment.paid_at, enrollment.paid_by_id = reference, now, getattr(actor, "id", None)
    for invoice in invoices_of(session, enrollment):
        invoice.settlement_month = month
    confirmed_on = now.astimezone(DISPLAY_TZ).date()
    starts, ends = [], []
    for line in enrollment.plans:
        start, end = coverage_for(line.plan, confirmed_on)
        session.execute(InsuredPerson.__table__.update().where(
            InsuredPerson.enrollment_plan_id == line.id, InsuredPerson.coverage_start.is_(None))
            .values(coverage_start=start, coverage_end=end))
        starts.append(start)
        ends.append(end)
    enrollment.coverage_start, enrollment.coverage_end = min(starts), max(ends)
    session.flush()
    letters.generate_letter(session, enrollment, actor=None)
    workers.notify_enrolled(session, enrollment)  # 站内信 参保记录 to the bound workers
    session.commit()
    return enrollment


def return_payment(session: Session, enrollment_id: int, *, actor, reason: str) -> Enrollment:
    """到账退回 (e.g. the amount does not match): back to 待开票, invoices editable again. Commits."""
    enrollment = review_flow.apply_transition(session, Enrollment, enrollment_id, "return_payment",
                                              flow=ENROLLMENT_FLOW, actor=actor, reason=reason,
                                              status_labels=EnrollmentStatus, scope_clause=enrollment_scope(actor))
    enrollment.return_reason, enrollment.settlement_month = (reason or "").strip(), None
    for invoice in invoices_of(session, enrollment):
        invoice.status, invoice.settlement_month = InvoiceStatus.DRAFT, None
    session.commit()
    return enrollment


def issue_invoice(session: Session, invoice_id: int, *, actor, file_name: str, data: bytes,
                  now: datetime | None = None) -> InvoiceRequest:
    """开具: finance stores the invoice PDF and mails it to the unit's invoice e-mail (S004:L9);
    refused once the enrollment's period is settled (C4). Commits.

    Raises:
        NotFoundError, DomainError.
    """
    invoice = session.get(InvoiceRequest, invoice_id)
    if invoice is None:
        raise NotFoundError("开票信息不存在")
    enrollment = scoped_enrollment(session, invoice.enrollment_id, actor, lock=True)
    if invoice.status not in (InvoiceStatus.SUBMITTED, InvoiceStatus.ISSUED, InvoiceStatus.SENT):
        raise DomainError(f"开票信息当前为「{invoice.status_label}」，不能开具", code="not_submitted")
    check_period_open(session, enrollment, now)
    pdf = attachments.add_attachment(session, owner=invoice, kind="invoice", file_name=file_name, data=data,
                                     actor=actor, accept=(attachments.PDFS,))
    invoice.pdf_attachment_id, invoice.status = pdf.id, InvoiceStatus.ISSUED
    invoice.issued_at, invoice.issued_by_id = now or utcnow(), getattr(actor, "id", None)
    outbox.queue_mail(session, invoice.email, "invoice_issued", {
        "number": enrollment.number, "unit": enrollment.member_unit.name, "title": invoice.title,
        "amount": money(invoice.amount)}, attachment=pdf, related=invoice)
    invoice.status = InvoiceStatus.SENT
    session.commit()
    return invoice


def period_figures(session: Session, org_scope) -> list[dict]:
    """Per settlement period: enrollments, payable (submitted) and received (confirmed), newest first."""
    rows = session.execute(
        select(Enrollment.settlement_month, func.count(Enrollment.id), func.sum(Enrollment.payable),
               func.sum(Enrollment.paid_amount))
        .where(Enrollment.settlement_month.is_not(None), org_scope)
        .group_by(Enrollment.settlement_month).order_by(Enrollment.settlement_month.desc())).all()
    periods = {p.month: p for p in session.scalars(select(SettlementPeriod))}
    return [{"month": m, "count": n, "payable": money(p or 0), "received": money(r or 0),
             "status": periods[m].status_label if m in periods else "开放"} for m, n, p, r in rows]
