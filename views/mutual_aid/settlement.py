"""结算期 and 开票 for finance: periods with payable vs received, settlement, the invoice requests of
a period (export), issuing an invoice PDF (mailed to the unit); and the office's 工作台 figures."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from app.extensions import db
from app.security import current_user
from app.services import exports
from app.services.errors import DomainError
from app.services.mutual_aid import invoicing as svc
from app.services.mutual_aid import queues
from app.services.mutual_aid.enrollment import enrollment_scope
from app.storage import store
from app.xlsx.writer import StreamingSheet
from models.base import utcnow
from models.mutual_aid import Enrollment, InvoiceRequest, InvoiceStatus, MemberUnit

from ..base import send_xlsx_once

INVOICE_HEADERS = ["结算期", "参保单号", "参保单位", "保障活动", "发票类型", "发票抬头", "纳税人识别号", "接收邮箱", "人数",
                   "金额（元）", "状态"]


class SettlementView(BaseView):
    """结算期: figures per period, 结算 (after the day's 24:00), the period's invoices, 开具."""

    route_base = "/settlement"
    default_view = "index"
    method_permission_name = {"index": "list", "settle": "settle", "invoices_xlsx": "list", "issue": "issue"}

    def _invoices(self, month: str):
        return db.session.execute(
            select(InvoiceRequest, Enrollment, MemberUnit)
            .join(Enrollment, Enrollment.id == InvoiceRequest.enrollment_id)
            .join(MemberUnit, MemberUnit.id == Enrollment.member_unit_id)
            .where(InvoiceRequest.settlement_month == month, enrollment_scope(current_user()))
            .order_by(InvoiceRequest.id)).all()

    @staticmethod
    def _month(value: str | None) -> str | None:
        value = (value or "").strip()
        return value if len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit() else None

    @expose("/")
    @has_access
    def index(self):
        month = self._month(request.args.get("month")) or svc.period_of(utcnow())
        return self.render_template(
            "union/mutual_aid/settlement.html", title="结算与开票", month=month,
            periods=svc.period_figures(db.session, enrollment_scope(current_user())), invoices=self._invoices(month),
            current=svc.period_of(utcnow()), can_settle=self.appbuilder.sm.has_access("can_settle", "SettlementView"),
            can_issue=self.appbuilder.sm.has_access("can_issue", "SettlementView"),
            issuable={InvoiceStatus.SUBMITTED, InvoiceStatus.ISSUED, InvoiceStatus.SENT})

    @expose("/settle", methods=["POST"])
    @has_access
    def settle(self):
        month = self._month(request.form.get("month")) or abort(404)
        try:
            svc.settle_period(db.session, month, actor=current_user())
            flash(f"结算期 {month} 已结算，该期不再开具发票", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".index", month=month))

    @expose("/invoices.xlsx")
    @has_access
    def invoices_xlsx(self):
        month = self._month(request.args.get("month")) or abort(404)
        title = f"开票信息_{month}"
        with store().scratch(".xlsx") as path:
            sheet = StreamingSheet(path, "开票信息", INVOICE_HEADERS)
            rows = self._invoices(month)
            for invoice, enrollment, unit in rows:
                sheet.write([month, enrollment.number, unit.name, invoice.enrollment_plan.plan.name, invoice.type_label,
                             invoice.title, invoice.tax_number, invoice.email, invoice.persons, invoice.amount,
                             invoice.status_label])
            sheet.close()
            exports.audit_export(db.session, actor=current_user(), title=title, count=len(rows),
                                 args=request.args.to_dict(flat=False))
            return send_xlsx_once(path, title)

    @expose("/issue/<int:invoice_id>", methods=["POST"])
    @has_access
    def issue(self, invoice_id):
        """开具: upload the invoice PDF; it is mailed to the unit's e-mail."""
        upload = request.files.get("file")
        month = self._month(request.form.get("month"))
        if upload is None or not upload.filename:
            flash("请选择发票 PDF 文件", "danger")
        else:
            try:
                svc.issue_invoice(db.session, invoice_id, actor=current_user(), file_name=upload.filename,
                                  data=upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1))
                flash("发票已开具，将发送至单位邮箱", "success")
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
        return redirect(url_for(".index", month=month) if month else url_for(".index"))


class MutualAidQueueView(BaseView):
    """互助保障工作台: pending registrations with their age, enrollments by status, payable vs received."""

    route_base = "/mutual-aid"
    default_view = "queues"
    method_permission_name = {"queues": "list", "queues_xlsx": "list"}

    @expose("/")
    @has_access
    def queues(self):
        return self.render_template("union/mutual_aid/queues.html", title="互助保障工作台",
                                    figures=queues.office_figures(db.session, current_user()))

    @expose("/figures.xlsx")
    @has_access
    def queues_xlsx(self):
        figures = queues.office_figures(db.session, current_user())
        with store().scratch(".xlsx") as path:
            sheet = StreamingSheet(path, "互助保障工作台", ["项目", "数值", "", ""])
            for row in queues.figure_rows(figures):
                sheet.write(row)
            sheet.close()
            exports.audit_export(db.session, actor=current_user(), title="互助保障工作台", count=len(figures["pending"]),
                                 args={})
            return send_xlsx_once(path, "互助保障工作台")
