"""职工客户端 API (seed 001, JWT): bind, 参保记录, 补助申请 in three steps, 个人信息变更, 站内信, and the
公告/资讯/宣传手册 of the worker's org scope. Each worker sees only his own records: another's number
or id answers 404. Every refusal is ``{"code", "message"}`` in Chinese."""
from __future__ import annotations

from flask import current_app, request
from flask_appbuilder.api import expose

from app.extensions import db
from app.http_errors import json_error
from app.routing import parse_id
from app.services import messages, notices
from app.services.attachments import attachments_of
from app.services.errors import DomainError
from app.services.mutual_aid import info_changes, subsidies, workers
from app.validators import normalize_text
from models.members import Gender, IdType
from models.mutual_aid import InfoChangeStatus, SubsidyStatus
from models.mutual_aid.info_changes import EVIDENCE, FIELDS
from models.mutual_aid.subsidies import ID_BACK, ID_FRONT, RECEIPT, RELATION_PROOF
from models.notices import COVER, FILE

from .api import DOMAIN_STATUS, JsonApi, _json_body, bound_endpoint

TAG = "职工客户端"
WORKER_STATUS = {**DOMAIN_STATUS, "worker_not_found": 404, "not_bound": 404, "phone_mismatch": 409,
                 "duplicate_stay": 409, "unfinished_exists": 409, "invalid_transition": 409, "self_approval": 403,
                 "step_missing": 409, "not_covered": 400}
worker_endpoint = bound_endpoint(lambda user: user, "请先登录")
MAX_FILES = 20


class WorkerJsonApi(JsonApi):
    """Refusals roll the request's transaction back before answering."""

    def refuse(self, err: DomainError):
        db.session.rollback()
        return json_error(WORKER_STATUS.get(err.code, 400), err.code, err.message)


def _fields() -> dict:
    body = _json_body()
    return {**{k: v for k, v in request.form.items()}, **body}


def _file(name: str):
    f = request.files.get(name)
    if not f or not f.filename:
        return None
    return f.filename, f.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)


def _files(name: str) -> list:
    limit = current_app.config["ATTACHMENT_MAX_BYTES"] + 1
    return [(f.filename, f.read(limit)) for f in request.files.getlist(name)[:MAX_FILES] if f and f.filename]


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def subsidy_json(application, *, detail: bool = False) -> dict:
    out = {"number": application.number, "kind": "住院医疗", "status": application.status,
           "status_label": application.status_label, "person": application.person_name,
           "created_at": application.created_at.isoformat(), "step": application.step,
           "admission_date": application.admission_date.isoformat() if application.admission_date else None,
           "discharge_date": application.discharge_date.isoformat() if application.discharge_date else None,
           "amount": _money(application.amount), "amount_label": application.amount_label,
           "remark": application.reject_reason or application.pay_fail_reason}
    if detail:
        counts = {kind: len(attachments_of(db.session, application, kind))
                  for kind in (ID_FRONT, ID_BACK, RECEIPT, RELATION_PROOF)}
        allowed = {SubsidyStatus.DRAFT: ["step", "submit", "delete"], SubsidyStatus.PAY_FAILED: ["payee"]}
        out.update({
            "hospital": application.hospital, "total_cost": _money(application.total_cost),
            "base": _money(application.base), "ratio_label": "累进制", "payee_name": application.payee_name,
            "payee_relation": application.payee_relation, "payee_bank": application.payee_bank,
            "payee_account": application.payee_account_masked, "files": counts,
            "reject_reason": application.reject_reason, "pay_fail_reason": application.pay_fail_reason,
            "paid_at": application.paid_at.isoformat() if application.paid_at else None,
            "progress": subsidies.progress(db.session, application),
            "allowed_actions": allowed.get(application.status, [])})
    return out


def _shown(field, value):
    if field == "id_type":
        return IdType.label_of(value) if value else None
    if field == "gender":
        return Gender.label_of(value) if value else None
    return value


def change_json(row, *, detail: bool = False) -> dict:
    out = {"number": row.number, "status": row.status, "status_label": row.status_label,
           "created_at": row.created_at.isoformat(), "changed": row.changed_label, "reject_reason": row.reject_reason}
    if detail:
        out["fields"] = [{"field": k, "label": label, "before": _shown(k, row.before.get(k)),
                          "after": _shown(k, row.after.get(k)), "changed": k in row.changed_fields}
                         for k, label in FIELDS.items()]
        out["evidence"] = len(attachments_of(db.session, row, EVIDENCE))
        out["progress"] = info_changes.progress(db.session, row)
        out["allowed_actions"] = ["submit", "delete"] if row.status == InfoChangeStatus.DRAFT else []
        if row.status == InfoChangeStatus.PENDING_FIRST:
            out["progress_text"] = "变更申请已提交 请等待审核通知"
    return out


class WorkerApi(WorkerJsonApi):
    """The worker's client (the 广西职工互助 WeChat front end calls it)."""

    resource_name = "worker"
    openapi_spec_tag = TAG

    # --- binding ------------------------------------------------------------------
    @expose("/sms-code", methods=["POST"])
    @worker_endpoint
    def sms_code(self, user):
        """获取 验证码 for binding, sent to the phone typed in (1 a minute, 10 a day).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {type: object, properties: {phone: {type: string}}}
          responses:
            200: {description: sent (5 minutes valid)}
            400: {description: phone_invalid, code_too_soon or code_daily_limit}
        """
        workers.send_bind_code(db.session, _fields().get("phone"))
        return self.response(200, result={"message": "验证码已发送，5分钟内有效"})

    @expose("/bind", methods=["POST"])
    @worker_endpoint
    def bind(self, user):
        """职工绑定: name + ID type + ID number + the phone on record, proven by the SMS code (A-28).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    name: {type: string, description: 姓名}
                    id_type: {type: string, description: "证件类型 (resident / 居民身份证, passport / 护照 …)"}
                    id_number: {type: string, description: 证件号码}
                    phone: {type: string, description: 登记的手机号}
                    code: {type: string, description: 短信验证码}
          responses:
            201: {description: bound; the masked profile}
            400: {description: "code_missing, code_invalid, code_expired, code_locked, bad_request"}
            404: {description: "worker_not_found 「未查询到该职工信息，请确认所填内容再重试」"}
            409: {description: "phone_mismatch 「手机号与登记信息不一致，请联系所在单位更新」, already_bound"}
        """
        body = _fields()
        binding = workers.bind_worker(db.session, user, name=body.get("name"), id_type=body.get("id_type"),
                                      id_number=body.get("id_number"), phone=body.get("phone"), code=body.get("code"))
        return self.response(201, result=self._profile(binding))

    def _profile(self, binding) -> dict:
        return {"name": binding.name, "id_type": binding.id_type, "id_type_label": IdType.label_of(binding.id_type),
                "id_number": binding.id_number_masked, "phone": binding.phone_masked}

    @expose("/me", methods=["GET"])
    @worker_endpoint
    def me(self, user):
        """个人中心: the masked profile and 参保记录 (plan, unit, shares, coverage period, status).
        ---
        get:
          responses:
            200: {description: "profile + records"}
            404: {description: not_bound}
        """
        binding = workers.binding_of(db.session, user)
        records = [{"id": person.id, "plan": plan.name, "plan_kind": plan.kind_label,
                    "unit": enrollment.member_unit.name, "shares": line.shares,
                    "coverage_start": (person.coverage_start or enrollment.coverage_start).isoformat()
                    if (person.coverage_start or enrollment.coverage_start) else None,
                    "coverage_end": (person.coverage_end or enrollment.coverage_end).isoformat()
                    if (person.coverage_end or enrollment.coverage_end) else None,
                    "enrollment_status": enrollment.status_label, "status": person.status_label}
                   for person, line, plan, enrollment in workers.records(db.session, binding)]
        return self.response(200, result={**self._profile(binding), "records": records})

    # --- subsidies ------------------------------------------------------------------
    @expose("/subsidies", methods=["GET"])
    @worker_endpoint
    def subsidies(self, user):
        """补助申请列表 (own, newest first).
        ---
        get:
          responses:
            200: {description: own applications}
        """
        return self.response(200, result=[subsidy_json(a) for a in subsidies.my_applications(db.session, user)])

    @expose("/subsidies", methods=["POST"])
    @worker_endpoint
    def subsidy_create(self, user):
        """申请住院补助金: a 草稿 with its ZY… number (住院医疗 only).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {type: object, properties: {insured_person_id: {type: integer, description: "参保记录 id (default: the newest 住院医疗 record)"}}}
          responses:
            201: {description: the draft}
            404: {description: not_bound, not_found (no effective 住院医疗 record)}
        """
        raw = _fields().get("insured_person_id")
        person_id = None if raw in (None, "") else parse_id(raw)
        if raw not in (None, "") and person_id is None:
            raise DomainError("参保记录编号须为正整数", code="bad_request")
        application = subsidies.create_application(db.session, user, insured_person_id=person_id)
        return self.response(201, result=subsidy_json(application, detail=True))

    @expose("/subsidies/<number>", methods=["GET"])
    @worker_endpoint
    def subsidy(self, user, number):
        """补助详情 with ``progress`` and ``allowed_actions``.
        ---
        get:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}, description: "ZY…"}
          responses:
            200: {description: the application}
            404: {description: not one of the worker's applications}
        """
        return self.response(200, result=subsidy_json(subsidies.own_application(db.session, user, number),
                                                      detail=True))

    @expose("/subsidies/<number>", methods=["DELETE"])
    @worker_endpoint
    def subsidy_delete(self, user, number):
        """删除 a 草稿.
        ---
        delete:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}}
          responses:
            200: {description: deleted}
            404: {description: not his}
            409: {description: invalid_transition (not a draft)}
        """
        subsidies.delete_application(db.session, user, number)
        return self.response(200, result={"message": "已删除"})

    @expose("/subsidies/<number>/step/<int:step>", methods=["PUT"])
    @worker_endpoint
    def subsidy_step(self, user, number, step):
        """One of the three steps (multipart): 1 = ``front``, ``back`` (ID photos); 2 = ``admission_date``,
        ``discharge_date``, ``hospital``, ``receipts`` (files, ≥1); 3 = ``payee_name``, ``payee_relation``,
        ``payee_bank``, ``account_type`` (card / passbook), ``payee_account``, ``relation_proof`` (file,
        when the holder is not the insured).
        ---
        put:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}}
          - {name: step, in: path, required: true, schema: {type: integer, enum: [1, 2, 3]}}
          requestBody:
            content:
              multipart/form-data:
                schema: {type: object}
          responses:
            200: {description: the application after the step}
            400: {description: "the step's rules (dates, coverage, files, Luhn, relation proof)"}
            404: {description: not his}
            409: {description: "step_missing, duplicate_stay, invalid_transition (not a draft)"}
        """
        fields = _fields()
        if step == 1:
            application = subsidies.save_id_photos(db.session, user, number, front=_file("front"), back=_file("back"))
        elif step == 2:
            application = subsidies.save_stay(db.session, user, number, admission=fields.get("admission_date"),
                                              discharge=fields.get("discharge_date"),
                                              hospital=fields.get("hospital"), receipts=_files("receipts"))
        elif step == 3:
            application = subsidies.save_account(db.session, user, number, fields, proof=_file("relation_proof"))
        else:
            raise DomainError("步骤须为1、2或3", code="bad_request")
        return self.response(200, result=subsidy_json(application, detail=True))

    @expose("/subsidies/<number>/submit", methods=["POST"])
    @worker_endpoint
    def subsidy_submit(self, user, number):
        """提交审核: 草稿 → 待初核 (the three steps complete).
        ---
        post:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}}
          responses:
            200: {description: submitted}
            404: {description: not his}
            409: {description: "step_missing, invalid_transition (already submitted)"}
        """
        application = subsidies.submit_application(db.session, user, number)
        return self.response(200, result=subsidy_json(application, detail=True))

    @expose("/subsidies/<number>/payee", methods=["PUT"])
    @worker_endpoint
    def subsidy_payee(self, user, number):
        """修正收款账户 after 打款失败: back to finance (审核通过), not to review.
        ---
        put:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}}
          responses:
            200: {description: corrected}
            400: {description: account rules}
            404: {description: not his}
            409: {description: invalid_transition (not 打款失败)}
        """
        application = subsidies.correct_payee(db.session, user, number, _fields(), proof=_file("relation_proof"))
        return self.response(200, result=subsidy_json(application, detail=True))

    # --- info changes -------------------------------------------------------------------
    @expose("/info-changes", methods=["GET"])
    @worker_endpoint
    def info_changes(self, user):
        """个人申请变更信息: own requests, newest first.
        ---
        get:
          responses:
            200: {description: own requests}
        """
        return self.response(200, result=[change_json(r) for r in info_changes.my_changes(db.session, user)])

    @expose("/info-changes", methods=["POST"])
    @worker_endpoint
    def info_change_create(self, user):
        """我要变更信息 → 确认提交 (multipart): the changed fields among name, phone, id_type, id_number,
        birth_date, gender, social_insurance_type, social_insurance_no; ``evidence`` files (≥1); ``reason``.
        ---
        post:
          requestBody:
            content:
              multipart/form-data:
                schema: {type: object}
          responses:
            201: {description: "the request, 待初核"}
            400: {description: "name_and_id 「不允许同时修改姓名和证件号码」, id_taken, bad_request"}
            409: {description: "unfinished_exists 「已存在未办结的变更记录，不允许重新申请」"}
        """
        fields = _fields()
        changes = {k: v for k, v in fields.items() if k in FIELDS}
        row = info_changes.create_change(db.session, user, changes, evidence=_files("evidence"),
                                         reason=fields.get("reason"))
        return self.response(201, result=change_json(row, detail=True))

    @expose("/info-changes/<number>", methods=["GET"])
    @worker_endpoint
    def info_change(self, user, number):
        """变更申请详情: before / after per field, 审核进度.
        ---
        get:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}, description: "BG…"}
          responses:
            200: {description: the request}
            404: {description: not his}
        """
        return self.response(200, result=change_json(info_changes.own_change(db.session, user, number), detail=True))

    @expose("/info-changes/<number>/submit", methods=["POST"])
    @worker_endpoint
    def info_change_submit(self, user, number):
        """Resubmit a rejected (草稿) request, optionally with corrected fields and more evidence.
        ---
        post:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}}
          responses:
            200: {description: "待初核"}
            404: {description: not his}
            409: {description: invalid_transition}
        """
        fields = _fields()
        row = info_changes.resubmit_change(db.session, user, number, {k: v for k, v in fields.items() if k in FIELDS},
                                           evidence=_files("evidence"))
        return self.response(200, result=change_json(row, detail=True))

    @expose("/info-changes/<number>", methods=["DELETE"])
    @worker_endpoint
    def info_change_delete(self, user, number):
        """删除 a 草稿 request.
        ---
        delete:
          parameters:
          - {name: number, in: path, required: true, schema: {type: string}}
          responses:
            200: {description: deleted}
            404: {description: not his}
            409: {description: invalid_transition}
        """
        info_changes.delete_change(db.session, user, number)
        return self.response(200, result={"message": "已删除"})

    # --- messages -------------------------------------------------------------------------
    @expose("/messages", methods=["GET"])
    @worker_endpoint
    def messages(self, user):
        """站内信 (newest first, 20 a page): ``category`` 参保记录 / 补助申请 / 个人信息变更 (or its code), ``page``.
        ---
        get:
          parameters:
          - {name: category, in: query, schema: {type: string}}
          - {name: page, in: query, schema: {type: integer}}
          responses:
            200: {description: messages with their deep links}
        """
        page = request.args.get("page", "0")
        if not page.isdigit():
            raise DomainError("页码须为非负整数", code="bad_request")
        rows = messages.list_messages(db.session, user.id, category=request.args.get("category"), page=int(page))
        return self.response(200, result=[messages.message_json(m) for m in rows])

    @expose("/messages/unread-count", methods=["GET"])
    @worker_endpoint
    def unread_count(self, user):
        """Unread messages per category and in total.
        ---
        get:
          responses:
            200: {description: "{enrollment, subsidy, info_change, total}"}
        """
        return self.response(200, result=messages.unread_counts(db.session, user.id))

    @expose("/messages/<int:message_id>/read", methods=["POST"])
    @worker_endpoint
    def read(self, user, message_id):
        """Mark one message read.
        ---
        post:
          parameters:
          - {name: message_id, in: path, required: true, schema: {type: integer}}
          responses:
            200: {description: read}
            404: {description: not his message}
        """
        return self.response(200, result=messages.message_json(messages.mark_read(db.session, user.id, message_id)))

    @expose("/messages/read-all", methods=["POST"])
    @worker_endpoint
    def read_all(self, user):
        """全部已读 (optionally ``category``).
        ---
        post:
          responses:
            200: {description: "{count}"}
        """
        return self.response(200, result={"count": messages.mark_all_read(
            db.session, user.id, category=_fields().get("category") or request.args.get("category"))})


class ArticleApi(WorkerJsonApi):
    """公告通知 / 文章资讯 / 宣传手册 of the worker's org scope (published only)."""

    resource_name = "articles"
    openapi_spec_tag = TAG

    def _orgs(self, user):
        return workers.worker_org_ids(db.session, workers.binding_of(db.session, user))

    @expose("/", methods=["GET"])
    @worker_endpoint
    def articles(self, user):
        """Published articles, newest first: ``kind`` 公告通知 / 文章资讯 / 宣传手册 (or notice / news / brochure), ``page``.
        ---
        get:
          parameters:
          - {name: kind, in: query, schema: {type: string}}
          - {name: page, in: query, schema: {type: integer}}
          responses:
            200: {description: articles (title, kind, published_at, cover)}
            404: {description: not_bound}
        """
        page = request.args.get("page", "0")
        if not page.isdigit():
            raise DomainError("页码须为非负整数", code="bad_request")
        rows = notices.published_for(db.session, self._orgs(user), kind=normalize_text(request.args.get("kind")),
                                     page=int(page))
        return self.response(200, result=[self._json(a) for a in rows])

    @expose("/<int:article_id>", methods=["GET"])
    @worker_endpoint
    def article(self, user, article_id):
        """One published article with its (sanitized) body.
        ---
        get:
          parameters:
          - {name: article_id, in: path, required: true, schema: {type: integer}}
          responses:
            200: {description: the article}
            404: {description: not published or not in the worker's scope}
        """
        article = notices.published_one(db.session, self._orgs(user), article_id)
        return self.response(200, result={**self._json(article), "body": article.body})

    @expose("/<int:article_id>/file/<kind>", methods=["GET"])
    @worker_endpoint
    def file(self, user, article_id, kind):
        """The cover (``cover``) or the attachment (``file``) of a published article.
        ---
        get:
          parameters:
          - {name: article_id, in: path, required: true, schema: {type: integer}}
          - {name: kind, in: path, required: true, schema: {type: string, enum: [cover, file]}}
          responses:
            200: {description: the file}
            404: {description: none}
        """
        from .attachments import attachment_response

        article = notices.published_one(db.session, self._orgs(user), article_id)
        found = attachments_of(db.session, article, kind) if kind in (COVER, FILE) else []
        if not found:
            raise DomainError("文件不存在", code="not_found")
        return attachment_response(found[-1])

    def _json(self, article) -> dict:
        has = {kind: bool(attachments_of(db.session, article, kind)) for kind in (COVER, FILE)}
        return {"id": article.id, "kind": article.kind, "kind_label": article.kind_label, "title": article.title,
                "org": article.org.name, "published_at": article.published_at.isoformat() if article.published_at else None,
                "cover": f"/api/v1/articles/{article.id}/file/cover" if has[COVER] else None,
                "attachment": f"/api/v1/articles/{article.id}/file/file" if has[FILE] else None}
