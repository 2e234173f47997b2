"""会员服务卡 views: batches (the base union's application, the county's 交接 and bank steps), cards
(state machine actions, card face), coverage registrations and the funding report, benefit claims,
statistics. Each route calls one service; refusals are Chinese flashes."""
from __future__ import annotations

import io
from datetime import date

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.security import current_user
from app.services import exports, review_flow
from app.services.errors import DomainError
from app.services.service_cards import applications, batches, benefits, cards, coverage, statistics
from app.storage import store
from app.masking import mask_id_number
from models.members import Member
from models.service_cards import (
    CARD_FLOW,
    BatchStatus,
    BenefitKind,
    CardApplication,
    CardBatch,
    CardBenefitClaim,
    CardStatus,
    CLAIM_FLOW,
    ClaimStatus,
    CoverageRegistration,
    CoverageStatus,
    DiseaseCategory,
    ServiceCard,
)

from .base import ReviewFlowMixin, ScopedInterface, ScopedModelView, send_xlsx_once

PDF = "application/pdf"


class CardBatchView(ScopedModelView):
    """办卡批次 in scope: the base union imports and submits; the county receives, returns, prints the
    bank summary, hands over to the bank and imports the bank's result."""

    datamodel = ScopedInterface(CardBatch)
    route_base = "/cardbatches"
    base_permissions = ["can_list", "can_show", "can_add", "can_import", "can_submit", "can_receive", "can_bank"]
    method_permission_name = {"new": "add", "upload": "import", "union_summary": "import", "flags": "submit", "submit": "submit",
                              "receive": "receive", "return_batch": "receive", "hand_over": "bank",
                              "summary_xlsx": "bank", "summary_pdf": "bank", "bank_result": "bank"}
    exclude_route_methods = {"add", "edit", "delete", "download", "api_read", "api_get"}
    list_title = show_title = "办卡批次"
    list_columns = ["number", "union_name", "status", "member_count", "submitted_at", "received_at", "bank_at"]
    show_columns = ["number", "union_name", "union_code", "union_uscc", "contact", "phone", "address",
                    "declared_count", "status", "member_count", "id_copies_received", "submitted_at",
                    "received_at", "counted", "handover_remark", "return_reason", "bank_at"]
    search_columns = ["number", "status", "union_name"]
    label_columns = {"number": "批次编号", "union_name": "基层工会", "union_code": "工会编号", "union_uscc": "统一社会信用代码",
                     "contact": "联系人", "phone": "联系电话", "address": "地址", "declared_count": "申报会员人数",
                     "status": "状态", "member_count": "批次人数", "id_copies_received": "身份证复印件已盖章",
                     "submitted_at": "提交时间", "received_at": "接收时间", "counted": "交接清点人数",
                     "handover_remark": "交接备注", "return_reason": "退回原因", "bank_at": "移交银行时间"}
    enum_columns = {"status": BatchStatus}
    base_order = ("id", "desc")
    show_template = "union/service_cards/batch_show.html"

    def list_buttons(self):
        buttons = super().list_buttons()
        if self.appbuilder.sm.has_access("can_add", "CardBatchView"):
            buttons.append({"id": "new-batch", "href": url_for(".new"), "label": "新建办卡批次", "icon": "fa-plus",
                            "style": "primary"})
        return buttons

    def _batch(self, pk) -> CardBatch:
        try:
            return batches.scoped_batch(db.session, pk, current_user())
        except DomainError:
            abort(404)

    def show_context(self, item):
        sm = self.appbuilder.sm
        lines = db.session.query(CardApplication).filter(CardApplication.batch_id == item.id) \
            .order_by(CardApplication.id).limit(100).all()
        can = {p: sm.has_access(f"can_{p}", "CardBatchView") for p in ("import", "submit", "receive", "bank")}
        return {"batch": item, "lines": lines, "can": can, "trail": review_flow.trail_of(db.session, CardBatch, item.id),
                "status_label": BatchStatus.label_of,
                "jobs": batches._jobs_of(db.session, item.id, (applications.APPLICATION_KIND, applications.SUMMARY_KIND,
                                                                 applications.BANK_RESULT_KIND))[:6], "mask": mask_id_number}

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        """新建批次 with the 基层工会信息汇总表 (prefilled from the union)."""
        if request.method == "POST":
            form = {k: (request.form.get(k) or "").strip()[:255] for k in batches.SUMMARY_FIELDS}
            try:
                form["declared_count"] = int(form["declared_count"]) if form["declared_count"] else None
                if form["declared_count"] is not None and not 0 <= form["declared_count"] <= 1_000_000:
                    raise ValueError
            except ValueError:
                flash("申报会员人数须为整数", "danger")
                return redirect(url_for(".new"))
            try:
                batch = batches.create_batch(db.session, actor=current_user(), **form)
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
                return redirect(url_for(".list"))
            flash(f"已新建办卡批次 {batch.number}，请导入工会会员信息汇总表", "success")
            return redirect(url_for(".show", pk=batch.id))
        org = current_user().org
        return self.render_template("union/service_cards/batch_new.html", title="新建办卡批次", org=org)

    @expose("/upload/<pk>", methods=["POST"])
    @has_access
    def upload(self, pk):
        return self._upload(pk, applications.APPLICATION_KIND)

    @expose("/union_summary/<pk>", methods=["POST"])
    @has_access
    def union_summary(self, pk):
        return self._upload(pk, applications.SUMMARY_KIND)

    @expose("/bank_result/<pk>", methods=["POST"])
    @has_access
    def bank_result(self, pk):
        return self._upload(pk, applications.BANK_RESULT_KIND)

    def _upload(self, pk, kind):
        from .base import flash_enqueued

        batch = self._batch(pk)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要上传的 .xlsx 文件", "warning")
            return redirect(url_for(".show", pk=batch.id))
        try:
            job = applications.submit_file(db.session, batch.id, kind=kind, actor=current_user(),
                                           file_name=upload.filename, stream=upload.stream)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return redirect(url_for(".show", pk=batch.id))
        doing = {applications.APPLICATION_KIND: "预校验", applications.SUMMARY_KIND: "导入工会信息"}.get(kind, "录入卡号")
        flash_enqueued(job, f"文件「{job.file_name}」已上传并开始{doing}，结果见下方「导入记录」")
        return redirect(url_for(".show", pk=batch.id))

    def _step(self, pk, call, done: str):
        batch = self._batch(pk)
        try:
            call(batch)
            flash(done, "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=batch.id))

    @expose("/flags/<pk>", methods=["POST"])
    @has_access
    def flags(self, pk):
        return self._step(pk, lambda b: batches.update_summary(
            db.session, b.id, actor=current_user(), id_copies_received=request.form.get("id_copies") == "1"),
            "已保存")

    @expose("/submit/<pk>", methods=["POST"])
    @has_access
    def submit(self, pk):
        return self._step(pk, lambda b: batches.submit_batch(db.session, b.id, actor=current_user()),
                          "批次已提交上级工会")

    @expose("/receive/<pk>", methods=["POST"])
    @has_access
    def receive(self, pk):
        raw = (request.form.get("counted") or "").strip()
        counted = int(raw) if raw.isdigit() and len(raw) < 8 else None
        return self._step(pk, lambda b: batches.receive_batch(db.session, b.id, actor=current_user(), counted=counted,
                                                               remark=request.form.get("remark")),
                          "已接收，交接记录已保存")

    @expose("/return/<pk>", methods=["POST"])
    @has_access
    def return_batch(self, pk):
        return self._step(pk, lambda b: batches.return_batch(db.session, b.id, actor=current_user(),
                                                              reason=(request.form.get("reason") or "")[:255]),
                          "批次已退回基层工会")

    @expose("/hand_over/<pk>", methods=["POST"])
    @has_access
    def hand_over(self, pk):
        return self._step(pk, lambda b: batches.hand_over_to_bank(db.session, b.id, actor=current_user()),
                          "已移交银行开户，会员服务卡状态为开户中")

    def _summary_ready(self, pk) -> CardBatch:
        batch = self._batch(pk)
        if batch.status in (BatchStatus.DRAFT, BatchStatus.SUBMITTED):
            abort(404)
        return batch

    @expose("/summary/<pk>.xlsx")
    @has_access
    def summary_xlsx(self, pk):
        batch = self._summary_ready(pk)
        title = f"批量开户汇总表_{batch.number}"
        with store().scratch(".xlsx") as path:
            count = batches.summary_xlsx(db.session, batch, path, actor=current_user())
            exports.audit_export(db.session, actor=current_user(), title=title, count=count, args={"batch": batch.id})
            return send_xlsx_once(path, title)

    @expose("/summary/<pk>.pdf")
    @has_access
    def summary_pdf(self, pk):
        batch = self._summary_ready(pk)
        data = batches.summary_pdf(db.session, batch, actor=current_user())
        exports.audit_export(db.session, actor=current_user(), title=f"批量开户汇总表_{batch.number}.pdf",
                             count=batch.member_count, args={"batch": batch.id})
        return send_file(io.BytesIO(data), mimetype=PDF, as_attachment=True,
                         download_name=f"批量开户汇总表_{batch.number}.pdf")


CARD_ACTIONS = {k: v for k, v in CARD_FLOW.items() if k[1] != "made"}  # 卡号 is typed on the show page


class ServiceCardView(ReviewFlowMixin, ScopedModelView):
    """会员服务卡 in scope: 发放, 挂失 / 解除挂失, 补卡 / 换卡, 注销; the card face."""

    datamodel = ScopedInterface(ServiceCard)
    route_base = "/servicecards"
    review_flow = CARD_ACTIONS
    base_permissions = ["can_list", "can_show", "can_distribute", "can_report_loss", "can_reissue", "can_cancel",
                        "can_bank", "can_export"]
    method_permission_name = {"face": "show", "serial": "bank"}
    exclude_route_methods = {"add", "edit", "delete", "download", "api_read", "api_get"}
    list_title = show_title = "会员服务卡"
    list_columns = ["member_no", "member", "org", "district_name", "status", "serial", "issued_at"]
    show_columns = ["member_no", "member", "org", "district_name", "status", "serial", "bank_account_masked",
                    "issued_at", "batch", "created_at"]
    search_columns = ["member_no", "status", "serial"]
    label_columns = {"member_no": "会员编号", "member": "会员", "org": "所属工会", "district_name": "区县局(产业)工会",
                     "status": "状态", "serial": "卡号", "bank_account_masked": "银行账号", "issued_at": "发放时间",
                     "batch": "办卡批次", "created_at": "创建时间"}
    enum_columns = {"status": CardStatus}
    base_order = ("id", "desc")
    show_template = "union/service_cards/card_show.html"
    export_fields = (
        exports.ExportField("会员编号", ServiceCard.member_no),
        exports.ExportField("区县局(产业)工会", ServiceCard.district_name),
        exports.ExportField("状态", ServiceCard.status, CardStatus.label_of),
        exports.ExportField("卡号", ServiceCard.serial),
    )

    def apply_review(self, item_id, action, reason):
        actor = current_user()
        if action == "distribute":
            cards.distribute_card(db.session, item_id, actor=actor)
        elif action == "report_loss":
            cards.report_loss(db.session, item_id, actor=actor, reason=reason)
        elif action == "cancel_loss":
            cards.cancel_loss(db.session, item_id, actor=actor)
        elif action == "reissue":
            cards.reissue_card(db.session, item_id, actor=actor, reason=reason)
        elif action == "cancel":
            cards.cancel_card(db.session, item_id, actor=actor, reason=reason)

    def show_context(self, item):
        sm = self.appbuilder.sm
        actions = [(a, CARD_FLOW[(item.status, a)]) for a in review_flow.actions_from(CARD_ACTIONS, item.status)
                   if sm.has_access(f"can_{CARD_FLOW[(item.status, a)].permission}", "ServiceCardView")]
        return {"card": item, "card_actions": actions, "trail": review_flow.trail_of(db.session, ServiceCard, item.id),
                "status_label": CardStatus.label_of,
                "can_serial": item.status == CardStatus.OPENING and sm.has_access("can_bank", "ServiceCardView")}

    @expose("/face/<pk>.svg")
    @has_access
    def face(self, pk):
        card = self.scoped_item(pk)
        return send_file(io.BytesIO(cards.barcode_svg(card.member_no)), mimetype="image/svg+xml")

    @expose("/serial/<pk>", methods=["POST"])
    @has_access
    def serial(self, pk):
        card = self.scoped_item(pk)
        try:
            cards.enter_serial(db.session, card.id, actor=current_user(), serial=request.form.get("serial", "")[:40],
                               bank_account=request.form.get("bank_account", "")[:40])
            flash("卡号已录入，状态为已制卡", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=card.id))


class CoverageView(ScopedModelView):
    """年度注册 / 专享基本保障 in scope, and the funding report (保障费用 per union and period)."""

    datamodel = ScopedInterface(CoverageRegistration)
    route_base = "/coverage"
    base_permissions = ["can_list", "can_export", "can_register"]
    method_permission_name = {"funding": "list", "funding_xlsx": "export", "register": "register"}
    exclude_route_methods = {"add", "edit", "delete", "download", "show", "api_read", "api_get"}
    list_title = "保障注册"
    list_columns = ["member", "org", "registered_on", "period_start", "period_end", "fee", "status"]
    search_columns = ["registered_on", "period_start", "status"]
    label_columns = {"member": "会员", "org": "出资工会", "registered_on": "注册日期", "period_start": "保障开始",
                     "period_end": "保障结束", "fee": "保障费用（元）", "status": "状态"}
    enum_columns = {"status": CoverageStatus}
    base_order = ("id", "desc")

    def list_buttons(self):
        return [*super().list_buttons(), {"id": "funding-link", "href": url_for(".funding"), "label": "保障费用筹资报表",
                                          "icon": "fa-calculator", "style": "default"}]
    export_fields = (
        exports.ExportField("注册日期", CoverageRegistration.registered_on),
        exports.ExportField("保障开始", CoverageRegistration.period_start),
        exports.ExportField("保障结束", CoverageRegistration.period_end),
        exports.ExportField("保障费用（元）", CoverageRegistration.fee),
        exports.ExportField("状态", CoverageRegistration.status, CoverageStatus.label_of),
    )

    @expose("/funding")
    @has_access
    def funding(self):
        lines = coverage.funding_report(db.session, actor=current_user(), share=self._share())
        sm = self.appbuilder.sm
        return self.render_template("union/service_cards/funding.html", title="保障费用筹资报表", lines=lines,
                                    can_export=sm.has_access("can_export", "CoverageView"),
                                    can_register=sm.has_access("can_register", "CoverageView"))

    @staticmethod
    def _share():
        return coverage.city_share(current_app.config.get("CARD_FEE_CITY_SHARE", "0"))

    @expose("/funding.xlsx")
    @has_access
    def funding_xlsx(self):
        title = "保障费用筹资报表"
        fields = [exports.ExportField(t, None) for t in ("出资工会", "保障开始", "保障结束", "每人费用（元）", "人数", "金额（元）",
                                                         "市总工会承担（元）", "各级工会承担（元）")]
        rows = ([line.org_name, line.period_start, line.period_end, line.fee, line.headcount, line.amount,
                 line.city_part, line.union_part]
                for line in coverage.funding_report(db.session, actor=current_user(), share=self._share()))
        with store().scratch(".xlsx") as path:
            count = exports.write_export(path, title, fields, rows)
            exports.audit_export(db.session, actor=current_user(), title=title, count=count, args={})
            return send_xlsx_once(path, title)

    @expose("/register", methods=["POST"])
    @has_access
    def register(self):
        """年度集体注册: the union's card holders for the period of today's registration."""
        try:
            done, skipped = coverage.register_union(db.session, actor=current_user())
            flash(f"已注册 {done} 人（{skipped} 人已在该保障期内，未重复注册）", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".list"))


class CardClaimView(ReviewFlowMixin, ScopedModelView):
    """给付 filed by the member's union; reviewed and paid by the city centre."""

    datamodel = ScopedInterface(CardBenefitClaim)
    route_base = "/cardclaims"
    review_flow = CLAIM_FLOW
    base_permissions = ["can_list", "can_show", "can_add", "can_review", "can_pay"]
    method_permission_name = {"new": "add"}
    exclude_route_methods = {"add", "edit", "delete", "download", "api_read", "api_get"}
    list_title = show_title = "保障给付"
    list_columns = ["number", "member", "org", "kind", "incident_date", "amount", "status"]
    show_columns = ["number", "member", "org", "kind", "disease_category", "hospitalized", "incident_date",
                    "established_on", "beneficiary", "coverage", "amount", "materials", "status", "filed_at", "paid_at"]
    search_columns = ["number", "kind", "status"]
    label_columns = {"number": "给付编号", "member": "会员", "org": "所属工会", "kind": "给付类型", "disease_category": "疾病类别",
                     "hospitalized": "经住院治疗", "incident_date": "确诊/事故日期", "established_on": "全残/身故确定日期",
                     "beneficiary": "受益人", "coverage": "保障期", "amount": "给付金额（元）", "materials": "材料说明",
                     "status": "状态", "filed_at": "申请时间", "paid_at": "给付时间"}
    enum_columns = {"status": ClaimStatus, "kind": BenefitKind, "disease_category": DiseaseCategory}
    base_order = ("id", "desc")

    def list_buttons(self):
        buttons = super().list_buttons()
        if self.appbuilder.sm.has_access("can_add", "CardClaimView"):
            buttons.append({"id": "new-claim", "href": url_for(".new"), "label": "申请给付", "icon": "fa-plus",
                            "style": "primary"})
        return buttons

    def apply_review(self, item_id, action, reason):
        benefits.review_claim(db.session, item_id, action, actor=current_user(), reason=reason)

    def show_context(self, item):
        return {"trail": review_flow.trail_of(db.session, CardBenefitClaim, item.id), "status_label": ClaimStatus.label_of}

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = request.form if request.method == "POST" else {}
        if request.method == "POST":
            try:
                claim = self._file(form)
                flash(f"给付申请 {claim.number} 已提交市职工保障互助中心审核，金额 {claim.amount} 元", "success")
                return redirect(url_for(".show", pk=claim.id))
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
        return self.render_template("union/service_cards/claim_new.html", title="申请给付", form=form,
                                    kinds=BenefitKind.choices(), categories=DiseaseCategory.choices())

    @staticmethod
    def _date(value, label, required=True):
        value = (value or "").strip()
        if not value and not required:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise DomainError(f"{label}格式应为 2025-01-31") from None

    def _file(self, form):
        member_no = (form.get("member_no") or "").strip()
        member = db.session.query(Member).filter(Member.member_no == member_no).first() \
            if member_no.isdigit() and len(member_no) == 10 else None
        if member is None:
            raise DomainError("请填写正确的10位会员编号")
        return benefits.file_claim(
            db.session, actor=current_user(), member_id=member.id, kind=form.get("kind", ""),
            incident_date=self._date(form.get("incident_date"), "确诊/事故日期"),
            disease_category=form.get("disease_category") or None, hospitalized=form.get("hospitalized") == "1",
            established_on=self._date(form.get("established_on"), "全残/身故确定日期", required=False),
            established_within=current_app.config.get("CARD_CLAIM_ESTABLISHED_DAYS", benefits.ESTABLISHED_WITHIN_DAYS),
            beneficiary=(form.get("beneficiary") or "").strip()[:50] or None,
            materials=(form.get("materials") or "")[:2000] or None)


class CardStatisticsView(BaseView):
    """服务卡统计 per county and base union: members, cards by status, registrations and fees, benefits paid."""

    route_base = "/cardstats"
    default_view = "index"
    base_permissions = ["can_list", "can_export"]
    method_permission_name = {"index": "list", "export": "export"}

    @expose("/")
    @has_access
    def index(self):
        table = statistics.card_statistics(db.session, actor=current_user())
        return self.render_template("union/service_cards/stats.html", title="服务卡统计", table=table,
                                    can_export=self.appbuilder.sm.has_access("can_export", "CardStatisticsView"))

    @expose("/export")
    @has_access
    def export(self):
        table = statistics.card_statistics(db.session, actor=current_user())
        title = "服务卡统计"
        with store().scratch(".xlsx") as path:
            count = exports.write_export(path, title, [exports.ExportField(h, None) for h in table.headers], table.rows)
            exports.audit_export(db.session, actor=current_user(), title=title, count=count, args={})
            return send_xlsx_once(path, title)


def register_service_card_views(appbuilder) -> None:
    category = "ServiceCards"
    appbuilder.add_view(CardBatchView, "Card batches", label="办卡批次", icon="fa-id-card-o", category=category,
                        category_label="会员服务卡", category_icon="fa-credit-card")
    appbuilder.add_view(ServiceCardView, "Service cards", label="会员服务卡", icon="fa-credit-card", category=category)
    appbuilder.add_view(CoverageView, "Coverage registrations", label="保障注册", icon="fa-shield", category=category)
    appbuilder.add_view(CardClaimView, "Card benefits", label="保障给付", icon="fa-medkit", category=category)
    appbuilder.add_view(CardStatisticsView, "Card statistics", label="服务卡统计", icon="fa-bar-chart",
                        category=category)
