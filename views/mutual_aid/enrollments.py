"""参保录入 (the unit's workspace), 参保初审 (office), 开票录入 (unit), 到账确认 (finance), 人员调入
(office): one scoped view whose show page is the enrollment's workspace; every form posts to a
route that calls one service."""
from __future__ import annotations

import io
from datetime import date

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.security import current_user
from app.services.attachments import attachments_of
from app.services.errors import DomainError
from app.services.exports import ExportField
from app.services.mutual_aid import enrollment as svc
from app.services.mutual_aid import invoicing, letters, persons, transfers
from app.services.mutual_aid.plans import money, plans_for_unit
from app.services.review_flow import trail_of
from app.storage import store
from app.tasks import run_import
from app.xlsx.writer import write_template
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import (
    ENROLLMENT_FLOW,
    Enrollment,
    EnrollmentStatus,
    InsuredPerson,
    InvoiceType,
    MemberUnit,
    PersonStatus,
)
from models.organizations import Org

from ..attachments import AttachmentsMixin
from ..base import XLSX, ReviewFlowMixin, ScopedInterface, ScopedModelView

PERSONS_PAGE = 50


def _int(value, default=0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if 0 <= number < 2**31 else default


class EnrollmentView(AttachmentsMixin, ReviewFlowMixin, ScopedModelView):
    """参保单: the unit's own, or the office's subtree; the show page is the workspace."""

    datamodel = ScopedInterface(Enrollment)
    member_unit_column = "member_unit_id"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete", "can_submit", "can_import",
                        "can_review", "can_invoice", "can_confirm", "can_transfer", "can_export"]
    exclude_route_methods = {"add", "edit", "delete", "download"}  # the workspace's own routes call the services
    method_permission_name = {"new": "add", "plans": "edit", "details": "edit", "files": "edit",
                              "delete_file": "edit", "person_list": "show", "delete_persons": "edit",
                              "submit": "submit", "upload": "import", "result": "import", "template": "import",
                              "invoice": "invoice", "delete_invoice": "invoice", "submit_invoices": "invoice",
                              "payment": "confirm", "return_payment": "confirm", "transfer": "transfer",
                              "remove": "delete"}
    list_title = show_title = _l("Enrollments")
    list_columns = ["number", "member_unit", "status_label", "payable", "paid_amount", "settlement_month",
                    "coverage_start", "coverage_end", "created_at"]
    show_columns = ["number", "member_unit", "org", "status_label", "staff_count", "female_staff_count", "note",
                    "payable", "submitted_at", "settlement_month", "paid_amount", "paid_on", "bank_reference",
                    "coverage_start", "coverage_end"]
    search_columns = ["number", "status", "settlement_month", "created_at"]
    label_columns = {"number": "参保单号", "member_unit": "参保单位", "org": "所属办事处", "status_label": "状态",
                     "status": "状态", "staff_count": "在职职工人数", "female_staff_count": "在职女职工人数",
                     "note": "参保说明", "payable": "应缴金额（元）", "submitted_at": "提交时间",
                     "settlement_month": "结算期", "paid_amount": "到账金额（元）", "paid_on": "到账日期",
                     "bank_reference": "银行流水号", "coverage_start": "保障开始", "coverage_end": "保障结束",
                     "created_at": "创建时间"}
    base_order = ("id", "desc")
    show_template = "union/mutual_aid/enrollment_show.html"
    review_flow = {k: t for k, t in ENROLLMENT_FLOW.items() if k[1] in ("approve", "return")}
    export_fields = (
        ExportField("参保单号", Enrollment.number), ExportField("参保单位", MemberUnit.name),
        ExportField("统一社会信用代码", MemberUnit.uscc), ExportField("所属办事处", Org.name),
        ExportField("状态", Enrollment.status, EnrollmentStatus.label_of),
        ExportField("应缴金额", Enrollment.payable, lambda v: money(v) if v is not None else None),
        ExportField("到账金额", Enrollment.paid_amount, lambda v: money(v) if v is not None else None),
        ExportField("结算期", Enrollment.settlement_month), ExportField("保障开始", Enrollment.coverage_start),
        ExportField("保障结束", Enrollment.coverage_end),
    )
    export_joins = ((MemberUnit, Enrollment.member_unit_id == MemberUnit.id), (Org, Enrollment.org_id == Org.id))

    def apply_review(self, item_id, action, reason):
        svc.review_enrollment(db.session, item_id, action, actor=current_user(), reason=reason)

    # --- the workspace --------------------------------------------------------------
    def _can(self, permission: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{permission}", self.class_permission_name)

    def show_context(self, item):
        figures = svc.line_figures(db.session, item)
        is_unit = current_user().member_unit_id is not None
        editable = item.editable and self._can("edit") and is_unit
        context = {
            "enrollment": item, "figures": figures, "editable": editable,
            "payable_now": svc.payable_of(db.session, item),
            "jobs": persons.last_jobs(db.session, item), "files": attachments_of(db.session, item, svc.ENROLLMENT_FILE),
            "problems": svc.submission_problems(db.session, item) if item.editable else [],
            "trail": trail_of(db.session, Enrollment, item.id), "status_label": EnrollmentStatus.label_of,
            "flow_actions": [a for a in ("approve", "return") if (item.status, a) in ENROLLMENT_FLOW
                             and self._can("review") and not is_unit],
            "flow_labels": {"approve": "初审通过", "return": "初审退回"},
            "can": {p: self._can(p) for p in ("submit", "import", "invoice", "confirm", "transfer", "delete")},
            "is_unit": is_unit, "invoice_types": InvoiceType.choices(),
            "offered": plans_for_unit(db.session, item.member_unit, utcnow().astimezone(DISPLAY_TZ).date())
            if editable else [],
        }
        if item.status in (EnrollmentStatus.INVOICING, EnrollmentStatus.PENDING_PAYMENT, EnrollmentStatus.EFFECTIVE):
            context["invoices"] = invoicing.invoices_of(db.session, item)
            context["invoice_problems"] = invoicing.invoice_problems(db.session, item) \
                if item.status == EnrollmentStatus.INVOICING else []
        if item.status == EnrollmentStatus.EFFECTIVE:
            context["letter"] = letters.current_letter(db.session, item)
        return context

    def _back(self, item, anchor: str = ""):
        return redirect(url_for(".show", pk=item.id) + (f"#{anchor}" if anchor else ""))

    def _run(self, item, call, success: str, anchor: str = ""):
        """Call one service; flash its Chinese refusal or the success; back to the workspace."""
        try:
            call()
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        else:
            flash(success, "success")
        return self._back(item, anchor)

    @staticmethod
    def _shares_from_form() -> dict[int, int]:
        chosen = {}
        for key, value in request.form.items():
            if key.startswith("shares_") and value.strip():
                chosen[_int(key[7:])] = _int(value, -1)
        return {plan: shares for plan, shares in chosen.items() if shares != 0}

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        """新建参保录入: choose plans and shares (S004:L47)."""
        user = current_user()
        unit = db.session.get(MemberUnit, user.member_unit_id or 0)
        if unit is None:
            flash("您的账户未绑定会员单位，不能新建参保录入", "danger")
            return redirect(url_for(".list"))
        if request.method == "POST":
            try:
                enrollment = svc.create_enrollment(db.session, actor=user, plan_shares=self._shares_from_form())
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
            else:
                flash(f"已创建参保单 {enrollment.number}，请为每个保障活动导入人员清单", "success")
                return redirect(url_for(".show", pk=enrollment.id))
        offered = plans_for_unit(db.session, unit, utcnow().astimezone(DISPLAY_TZ).date())
        return self.render_template("union/mutual_aid/enrollment_new.html", title="新建参保录入", unit=unit,
                                    offered=offered)

    @expose("/plans/<int:pk>", methods=["POST"])
    @has_access
    def plans(self, pk):
        item = self.scoped_item(pk)
        return self._run(item, lambda: svc.set_plans(db.session, item.id, actor=current_user(),
                                                     plan_shares=self._shares_from_form()), "保障活动与份数已保存", "plans")

    @expose("/details/<int:pk>", methods=["POST"])
    @has_access
    def details(self, pk):
        item = self.scoped_item(pk)
        form = request.form
        return self._run(item, lambda: svc.set_details(
            db.session, item.id, actor=current_user(), staff_count=form.get("staff_count"),
            female_staff_count=form.get("female_staff_count"), note=form.get("note")), "参保信息已保存", "details")

    @expose("/files/<int:pk>", methods=["POST"])
    @has_access
    def files(self, pk):
        item = self.scoped_item(pk)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要上传的附件", "danger")
            return self._back(item, "files")
        data = upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)
        return self._run(item, lambda: svc.add_file(db.session, item.id, actor=current_user(),
                                                    file_name=upload.filename, data=data), "附件已上传", "files")

    @expose("/files/<int:pk>/<int:attachment_id>/delete", methods=["POST"])
    @has_access
    def delete_file(self, pk, attachment_id):
        item = self.scoped_item(pk)
        return self._run(item, lambda: svc.remove_file(db.session, item.id, attachment_id, actor=current_user()),
                         "附件已删除", "files")

    @expose("/template")
    @has_access
    def template(self):
        spec = persons.SHEET
        return send_file(io.BytesIO(write_template(spec)), mimetype=XLSX, as_attachment=True,
                         download_name=f"{spec.title}.xlsx")

    @expose("/upload/<int:pk>/<int:line_id>", methods=["POST"])
    @has_access
    def upload(self, pk, line_id):
        """人员清单导入 for one plan line: a job (采集任务) processed by the worker."""
        item = self.scoped_item(pk)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要导入的人员清单（.xlsx）", "danger")
            return self._back(item, "plans")
        try:
            job = persons.submit_person_list(db.session, item.id, line_id, actor=current_user(),
                                             file_name=upload.filename, stream=upload.stream)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        else:
            run_import.delay(job.id)  # after the commit in submit_import
            flash(f"已提交人员清单「{job.file_name}」，正在后台导入", "success")
        return self._back(item, "plans")

    @expose("/result/<int:pk>/<int:job_id>")
    @has_access
    def result(self, pk, job_id):
        """导入失败人员下载 of one job (the rows as submitted with the reasons)."""
        item = self.scoped_item(pk)
        try:
            job = persons.scoped_job(db.session, item, job_id)
            kind, stored, name = persons.imports.job_file(job, "result")
        except DomainError:
            abort(404)
        return store().response(kind, stored, mimetype=XLSX, download_name=name.replace("导出结果", "导入失败人员"))

    @expose("/persons/<int:pk>")
    @has_access
    def person_list(self, pk):
        """人员详情/修改: search, page, delete (while editable)."""
        item = self.scoped_item(pk)
        q, line_id = request.args.get("q", "")[:40], _int(request.args.get("line"))
        page = _int(request.args.get("page"))
        stmt = persons.persons_query(item, line_id=line_id or None, q=q)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = db.session.scalars(stmt.limit(PERSONS_PAGE).offset(page * PERSONS_PAGE)).all()
        return self.render_template("union/mutual_aid/persons.html", title=f"参保人员 - {item.number}",
                                    enrollment=item, rows=rows, total=total, page=page, q=q, line_id=line_id,
                                    pages=(total + PERSONS_PAGE - 1) // PERSONS_PAGE,
                                    lines={line.id: line for line in item.plans},
                                    can_delete=item.editable and self._can("edit") and current_user().member_unit_id)

    @expose("/persons/<int:pk>/delete", methods=["POST"])
    @has_access
    def delete_persons(self, pk):
        item = self.scoped_item(pk)
        ids = [_int(v) for v in request.form.getlist("person_id") if _int(v)]
        if not ids:
            flash("请先勾选要删除的参保人", "warning")
        else:
            try:
                done = svc.delete_persons(db.session, item.id, ids, actor=current_user())
                flash(f"已删除 {done} 名参保人", "success")
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
        return redirect(url_for(".person_list", pk=item.id))

    @expose("/submit/<int:pk>", methods=["POST"])
    @has_access
    def submit(self, pk):
        item = self.scoped_item(pk)
        return self._run(item, lambda: svc.submit_enrollment(db.session, item.id, actor=current_user()),
                         "已提交，参保单进入参保初审环节")

    @expose("/remove/<int:pk>", methods=["POST"])
    @has_access
    def remove(self, pk):
        item = self.scoped_item(pk)
        try:
            svc.delete_enrollment(db.session, item.id, actor=current_user())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return self._back(item)
        flash("参保单已删除", "success")
        return redirect(url_for(".list"))

    # --- 开票录入 ------------------------------------------------------------------------
    @expose("/invoice/<int:pk>", methods=["POST"])
    @has_access
    def invoice(self, pk):
        item = self.scoped_item(pk)
        invoice_id = _int(request.form.get("invoice_id")) or None
        return self._run(item, lambda: invoicing.save_invoice(db.session, item.id, actor=current_user(),
                                                              fields=request.form.to_dict(), invoice_id=invoice_id),
                         "开票信息已保存", "invoices")

    @expose("/invoice/<int:pk>/<int:invoice_id>/delete", methods=["POST"])
    @has_access
    def delete_invoice(self, pk, invoice_id):
        item = self.scoped_item(pk)
        return self._run(item, lambda: invoicing.delete_invoice(db.session, item.id, invoice_id, actor=current_user()),
                         "开票信息已删除", "invoices")

    @expose("/invoices/submit/<int:pk>", methods=["POST"])
    @has_access
    def submit_invoices(self, pk):
        item = self.scoped_item(pk)
        return self._run(item, lambda: invoicing.submit_invoices(db.session, item.id, actor=current_user()),
                         "开票信息已提交，参保单流转至到账确认环节")

    # --- 到账确认 (finance) ---------------------------------------------------------------
    @expose("/payment/<int:pk>", methods=["POST"])
    @has_access
    def payment(self, pk):
        item = self.scoped_item(pk)
        try:
            paid_on = date.fromisoformat(request.form.get("paid_on") or "")
        except ValueError:
            paid_on = None
        return self._run(item, lambda: invoicing.confirm_payment(
            db.session, item.id, actor=current_user(), amount=request.form.get("amount"), paid_on=paid_on,
            reference=request.form.get("reference")), "已确认到账，参保单已生效，确认书已生成")

    @expose("/payment/<int:pk>/return", methods=["POST"])
    @has_access
    def return_payment(self, pk):
        item = self.scoped_item(pk)
        return self._run(item, lambda: invoicing.return_payment(db.session, item.id, actor=current_user(),
                                                                reason=request.form.get("reason")),
                         "已退回单位重新开票")

    # --- 人员调入 (office) ----------------------------------------------------------------
    @expose("/transfer/<int:pk>", methods=["POST"])
    @has_access
    def transfer(self, pk):
        """Find the insured person by ID number in another unit's effective enrollment of a plan
        this enrollment has, and move him here keeping his coverage."""
        item = self.scoped_item(pk)
        number = (request.form.get("id_number") or "").strip().upper()
        candidates = db.session.scalars(
            select(InsuredPerson).join(Enrollment, Enrollment.id == InsuredPerson.enrollment_id)
            .where(InsuredPerson.id_number == number, InsuredPerson.status == PersonStatus.ACTIVE,
                   InsuredPerson.plan_id.in_([line.plan_id for line in item.plans]),
                   Enrollment.status == EnrollmentStatus.EFFECTIVE, Enrollment.member_unit_id != item.member_unit_id,
                   svc.enrollment_scope(current_user()))).all()
        if len(candidates) != 1:
            flash("未找到可调入的参保人（须为其他单位已生效参保单中的同一保障活动）" if not candidates
                  else "该证件号码在多个参保单中，请联系管理员处理", "danger")
            return self._back(item, "transfer")
        person = candidates[0]
        return self._run(item, lambda: transfers.transfer_in(db.session, person_id=person.id, to_enrollment_id=item.id,
                                                             actor=current_user(), reason=request.form.get("reason")),
                         f"已调入 {person.name}，保障期保持不变", "transfer")
