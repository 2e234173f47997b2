"""申领处理 (S004:L126–154): 申领受理, 费用录入 (the work pool and the case page), 申领初审 / 复核,
打款 (batch export and the bank's return file), 申领查询 with its export. Every form posts to a route
that calls one service; a case outside the user's scope answers 404."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import func, select

from app.extensions import db
from app.security import current_user, org_scope_clause
from app.services import exports, imports
from app.services.attachments import attachments_of, owned_attachment
from app.services.errors import DomainError, NotFoundError
from app.services.mutual_aid import claims as svc
from app.services.mutual_aid import payments
from app.services.review_flow import trail_of
from app.storage import store
from models.mutual_aid import Claim, ClaimKind, ClaimStatus, InsuredPerson, PayeeAccountType
from models.security import AppUser

from ..attachments import attachment_response
from ..base import send_xlsx_once
from ..base.display import flash_enqueued

QUERY_PAGE = 50
QUERY_HEADERS = ["案件号", "出险人", "证件号码", "申领类型", "保障活动", "出险日期", "互助金额（元）", "结案方式", "打款日期",
                 "银行流水号", "结案时间"]


def _int(value, default=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if 0 < number < 2**31 else default


def _ids(values) -> list[int]:
    return [i for i in (_int(v) for v in values) if i is not None][:500]


def _date(value) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError("日期格式不正确（如 2025-03-01）") from None


class ClaimView(BaseView):
    """申领处理: one view, one permission per duty (受理 accept, 费用录入 handle, 改派 reassign, 审核 review,
    打款 pay, 查询 list / export)."""

    route_base = "/claims"
    default_view = "pool"
    base_permissions = ["can_list", "can_accept", "can_handle", "can_reassign", "can_review", "can_pay",
                        "can_export"]
    method_permission_name = {
        "accept": "accept", "accept_post": "accept", "materials": "accept", "delete": "accept",
        "pool": "list", "take": "handle", "release": "handle", "reassign": "reassign",
        "show": "list", "attachment": "list", "fee": "handle", "sheet_add": "handle", "sheet_delete": "handle",
        "calculate": "handle", "submit": "handle", "payee": "handle",
        "reviews": "review", "review": "review",
        "payments_page": "pay", "pay": "pay", "batch_xlsx": "pay", "bank_return": "pay",
        "query": "list", "query_xlsx": "export",
    }

    # --- helpers -----------------------------------------------------------------------
    def _can(self, permission: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{permission}", "ClaimView")

    def _claim(self, claim_id: int) -> Claim:
        try:
            return svc.scoped_claim(db.session, claim_id, current_user())
        except NotFoundError:
            abort(404)

    def _run(self, call, success: str | None = None) -> bool:
        try:
            call()
        except NotFoundError:
            db.session.rollback()
            abort(404)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return False
        if success:
            flash(success, "success")
        return True

    def _back(self, claim_id: int):
        return redirect(url_for(".show", claim_id=claim_id))

    # --- 申领受理 --------------------------------------------------------------------------
    @expose("/accept")
    @has_access
    def accept(self):
        """Search by ID number; ticked kinds collect in the confirmation list (``pick`` = person:kind)."""
        actor = current_user()
        number = (request.args.get("id_number") or "").strip()[:40]
        picks = []
        for value in request.args.getlist("pick")[:50]:
            person_id, _, kind_id = value.partition(":")
            if _int(person_id) and _int(kind_id):
                picks.append((_int(person_id), _int(kind_id)))
        options, incident = [], None
        try:
            incident = _date(request.args.get("incident_date"))
            if number:
                options = svc.claimable(db.session, number, actor, incident_date=incident)
        except DomainError as err:
            flash(err.message, "danger")
        picked = []
        for person_id, kind_id in dict.fromkeys(picks):
            person, kind = db.session.get(InsuredPerson, person_id), db.session.get(ClaimKind, kind_id)
            if person is not None and kind is not None:
                picked.append({"value": f"{person_id}:{kind_id}", "name": person.name,
                               "id_number_masked": person.id_number_masked, "kind": kind.name})
        return self.render_template("union/mutual_aid/claims_accept.html", title="申领受理", id_number=number,
                                    options=options, picked=picked, incident_date=request.args.get("incident_date", ""),
                                    picked_values={p["value"] for p in picked})

    @expose("/accept", methods=["POST"])
    @has_access
    def accept_post(self):
        selections = []
        for value in request.form.getlist("pick")[:50]:
            person_id, _, kind_id = value.partition(":")
            selections.append((person_id, kind_id))
        made = []

        def call():
            made.extend(svc.accept_claims(db.session, selections, current_user(),
                                          incident_date=_date(request.form.get("incident_date"))))

        if self._run(call):
            flash(f"受理成功：{'、'.join(c.number + '（' + c.status_label + '）' for c in made)}", "success")
            return redirect(url_for(".pool", tab="materials" if any(
                c.status == ClaimStatus.MATERIALS for c in made) else "pending"))
        return redirect(url_for(".accept"))

    # --- 工作池 ---------------------------------------------------------------------------
    @expose("/")
    @has_access
    def pool(self):
        actor = current_user()
        tab = request.args.get("tab") if request.args.get("tab") in ("pending", "mine", "materials", "all") \
            else "pending"
        stmt = select(Claim).where(svc.claim_scope(actor))
        if tab == "materials":
            stmt = stmt.where(Claim.status == ClaimStatus.MATERIALS)
        elif tab == "pending":
            stmt = stmt.where(Claim.status == ClaimStatus.FEE_ENTRY, Claim.handler_id.is_(None))
        elif tab == "mine":
            stmt = stmt.where(Claim.status.in_([ClaimStatus.FEE_ENTRY, ClaimStatus.PAYMENT_FAILED]),
                              Claim.handler_id == actor.id)
        else:
            stmt = stmt.where(Claim.status == ClaimStatus.FEE_ENTRY, Claim.handler_id.is_not(None))
        rows = db.session.scalars(stmt.order_by(Claim.id).limit(200)).all()
        handlers = []
        if self._can("reassign") and tab == "all":
            # the office staff of the supervisor's scope, chosen in SQL (not cut by a limit first)
            handlers = db.session.scalars(select(AppUser).where(
                AppUser.active.is_(True), org_scope_clause(AppUser.org_id, actor),
                AppUser.roles.any(name="办事处业务人员")).order_by(AppUser.username).limit(500)).all()
        counts = svc.queue_counts(db.session, actor)
        return self.render_template("union/mutual_aid/claims_pool.html", title="费用录入", tab=tab, rows=rows,
                                    can_handle=self._can("handle"), can_accept=self._can("accept"),
                                    can_reassign=self._can("reassign"), handlers=handlers, counts=counts)

    @expose("/take", methods=["POST"])
    @has_access
    def take(self):
        ids = _ids(request.form.getlist("id"))
        if not ids:
            flash("请先勾选要获取的案件", "danger")
            return redirect(url_for(".pool", tab="pending"))
        taken = svc.take_claims(db.session, ids, current_user())
        if taken:
            flash(f"已获取 {len(taken)} 件案件，已移入处理中工作池", "success")
        if len(taken) < len(ids):
            flash(f"{len(ids) - len(taken)} 件案件已被他人获取或不在待处理工作池", "warning")
        return redirect(url_for(".pool", tab="mine"))

    @expose("/release", methods=["POST"])
    @has_access
    def release(self):
        ids = _ids(request.form.getlist("id"))
        supervisor = self._can("reassign") and request.form.get("supervisor") == "1"
        released = svc.release_claims(db.session, ids, current_user(), supervisor=supervisor)
        flash(f"已释放 {len(released)} 件案件回待处理工作池" if released else "没有可释放的案件",
              "success" if released else "warning")
        return redirect(url_for(".pool", tab="all" if supervisor else "mine"))

    @expose("/reassign", methods=["POST"])
    @has_access
    def reassign(self):
        ids = _ids(request.form.getlist("id"))
        to_user = db.session.get(AppUser, _int(request.form.get("handler_id"), 0) or 0)

        def call():
            moved = svc.reassign_claims(db.session, ids, to_user, current_user())
            flash(f"已改派 {len(moved)} 件案件给 {to_user.first_name}{to_user.last_name}", "success")

        self._run(call)
        return redirect(url_for(".pool", tab="all"))

    # --- the case page --------------------------------------------------------------------
    @expose("/<int:claim_id>")
    @has_access
    def show(self, claim_id):
        claim = self._claim(claim_id)
        actor = current_user()
        files = attachments_of(db.session, claim)
        return self.render_template(
            "union/mutual_aid/claim_show.html", title=f"申领案件 {claim.number}", claim=claim, files=files,
            missing=svc.missing_materials(db.session, claim), trail=trail_of(db.session, Claim, claim.id),
            mine=claim.handler_id == actor.id, can_accept=self._can("accept"), can_handle=self._can("handle"),
            can_review=self._can("review"), can_pay=self._can("pay"), S=ClaimStatus,
            account_types=PayeeAccountType, relations=svc.RELATIONS)

    @expose("/<int:claim_id>/files/<int:attachment_id>")
    @has_access
    def attachment(self, claim_id, attachment_id):
        claim = self._claim(claim_id)
        try:
            item = owned_attachment(db.session, claim, attachment_id)
        except NotFoundError:
            abort(404)
        return attachment_response(item)

    @expose("/<int:claim_id>/materials", methods=["POST"])
    @has_access
    def materials(self, claim_id):
        self._claim(claim_id)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要上传的材料图片", "danger")
            return self._back(claim_id)
        data = upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)
        self._run(lambda: svc.upload_material(db.session, claim_id, current_user(),
                                              material_type=(request.form.get("material_type") or "").strip(),
                                              file_name=upload.filename, data=data), "材料已上传")
        return self._back(claim_id)

    @expose("/<int:claim_id>/delete", methods=["POST"])
    @has_access
    def delete(self, claim_id):
        self._claim(claim_id)
        if self._run(lambda: svc.delete_claim(db.session, claim_id, current_user(),
                                              confirmed=request.form.get("confirm") == "yes"), "案件已删除"):
            return redirect(url_for(".pool"))
        return self._back(claim_id)

    @expose("/<int:claim_id>/fee", methods=["POST"])
    @has_access
    def fee(self, claim_id):
        self._claim(claim_id)
        self._run(lambda: svc.save_fee_entry(db.session, claim_id, current_user(), request.form.to_dict()),
                  "出险及收款信息已保存")
        return self._back(claim_id)

    @expose("/<int:claim_id>/sheets", methods=["POST"])
    @has_access
    def sheet_add(self, claim_id):
        self._claim(claim_id)
        self._run(lambda: svc.add_sheet(db.session, claim_id, current_user(), request.form.to_dict()), "结算单已添加")
        return self._back(claim_id)

    @expose("/<int:claim_id>/sheets/<int:sheet_id>/delete", methods=["POST"])
    @has_access
    def sheet_delete(self, claim_id, sheet_id):
        self._claim(claim_id)
        self._run(lambda: svc.delete_sheet(db.session, claim_id, sheet_id, current_user()), "结算单已删除")
        return self._back(claim_id)

    @expose("/<int:claim_id>/calculate", methods=["POST"])
    @has_access
    def calculate(self, claim_id):
        self._claim(claim_id)
        holder = []
        if self._run(lambda: holder.append(svc.calculate_claim(db.session, claim_id, current_user()))):
            flash(f"申领计算完成：互助金额 {holder[0].amount} 元", "success")
        return self._back(claim_id)

    @expose("/<int:claim_id>/submit", methods=["POST"])
    @has_access
    def submit(self, claim_id):
        self._claim(claim_id)
        if self._run(lambda: svc.submit_claim(db.session, claim_id, current_user()), "申领已提交，案件进入申领初审"):
            return redirect(url_for(".pool", tab="mine"))
        return self._back(claim_id)

    @expose("/<int:claim_id>/payee", methods=["POST"])
    @has_access
    def payee(self, claim_id):
        self._claim(claim_id)
        self._run(lambda: svc.correct_payee(db.session, claim_id, current_user(), request.form.to_dict()),
                  "收款信息已修正，案件重新进入待打款")
        return self._back(claim_id)

    # --- 初审 / 复核 -----------------------------------------------------------------------
    @expose("/reviews")
    @has_access
    def reviews(self):
        stage = "second" if request.args.get("stage") == "second" else "first"
        status = ClaimStatus.SECOND_REVIEW if stage == "second" else ClaimStatus.FIRST_REVIEW
        return self.render_template("union/mutual_aid/claims_queue.html", title="复核" if stage == "second" else "申领初审",
                                    stage=stage, rows=svc.queue(db.session, current_user(), status), payments=False)

    @expose("/<int:claim_id>/review", methods=["POST"])
    @has_access
    def review(self, claim_id):
        claim = self._claim(claim_id)
        stage = "second" if claim.status == ClaimStatus.SECOND_REVIEW else "first"
        action = request.form.get("action")
        labels = {"approve": "审核通过", "return": "已退回", "decline": "已作不予给付结案"}
        if action not in labels:
            flash("不支持的操作", "danger")
            return self._back(claim_id)
        if self._run(lambda: svc.review_claim(db.session, claim_id, action, current_user(),
                                              reason=request.form.get("reason")), labels[action]):
            return redirect(url_for(".reviews", stage=stage))
        return self._back(claim_id)

    # --- 打款 ----------------------------------------------------------------------------
    @expose("/payments")
    @has_access
    def payments_page(self):
        """Every payable kind waiting in scope (申领案件 SL…, 补助申请 ZY…): the batch export and the bank's
        return file cover them all; one by one on each item's own page."""
        actor = current_user()
        sm = self.appbuilder.sm
        return self.render_template("union/mutual_aid/claims_queue.html", title="申领与补助打款", stage="pay",
                                    rows=svc.queue(db.session, actor, ClaimStatus.PENDING_PAYMENT), payments=True,
                                    failed=svc.queue(db.session, actor, ClaimStatus.PAYMENT_FAILED),
                                    subsidies=payments.pending_items(db.session, actor, ["subsidy"]),
                                    failed_subsidies=payments.failed_subsidies(db.session, actor),
                                    subsidy_pay=sm.has_access("can_pay", "SubsidyPaymentView"))

    @expose("/<int:claim_id>/pay", methods=["POST"])
    @has_access
    def pay(self, claim_id):
        self._claim(claim_id)
        if request.form.get("result") == "fail":
            ok = self._run(lambda: payments.fail_one(db.session, "claim", claim_id, current_user(),
                                                     reason=request.form.get("reason") or ""), "已登记打款失败，退回经办人修正")
        else:
            ok = self._run(lambda: payments.pay_one(db.session, "claim", claim_id, current_user(),
                                                    paid_on=_date(request.form.get("paid_on")),
                                                    reference=request.form.get("reference") or ""), "打款成功，案件已结案")
        return redirect(url_for(".payments_page")) if ok else self._back(claim_id)

    @expose("/payments/batch.xlsx")
    @has_access
    def batch_xlsx(self):
        with store().scratch(".xlsx") as path:
            payments.write_batch_file(db.session, path, current_user())
            return send_xlsx_once(path, "打款批次")

    @expose("/payments/return", methods=["POST"])
    @has_access
    def bank_return(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择银行回盘文件（.xlsx）", "danger")
            return redirect(url_for(".payments_page"))
        try:
            job = imports.submit_import(db.session, actor=current_user(), kind_key=payments.BANK_RETURN.key,
                                        file_name=upload.filename, stream=upload.stream)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return redirect(url_for(".payments_page"))
        flash_enqueued(job, f"银行回盘「{job.file_name}」已提交，处理结果见导入任务")
        return redirect(url_for(".payments_page"))

    # --- 申领查询 --------------------------------------------------------------------------
    def _query(self):
        return svc.closed_query(current_user(), number=(request.args.get("number") or "")[:30] or None,
                                name=(request.args.get("name") or "")[:50] or None)

    @expose("/query")
    @has_access
    def query(self):
        page = _int(request.args.get("page"), 1) or 1
        stmt = self._query()
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = db.session.scalars(stmt.limit(QUERY_PAGE).offset((page - 1) * QUERY_PAGE)).all()
        return self.render_template("union/mutual_aid/claims_query.html", title="申领查询", rows=rows, total=total,
                                    page=page, pages=max(1, -(-total // QUERY_PAGE)), args=request.args,
                                    can_export=self._can("export"))

    @expose("/query.xlsx")
    @has_access
    def query_xlsx(self):
        fields = [exports.ExportField(t, None) for t in QUERY_HEADERS]

        def rows():
            for c in db.session.scalars(self._query().execution_options(yield_per=1000)):
                yield (c.number, c.insured_person.name, c.id_number_masked, c.claim_kind.name,
                       c.enrollment_plan.plan.name, c.incident_date, c.amount, c.status_label, c.paid_on,
                       c.payment_reference, c.closed_at.astimezone(exports.DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
                       if c.closed_at else "")

        with store().scratch(".xlsx") as path:
            count = exports.write_export(path, "申领查询", fields, rows())
            exports.audit_export(db.session, actor=current_user(), title="申领查询", count=count,
                                 args=request.args.to_dict(flat=False))
            return send_xlsx_once(path, "申领查询")
