"""疗休养 member API (JWT, scope self): policy, unions, products with remaining capacity, the plan,
submit / cancel, balance. Refusals are Chinese ``{"code", "message"}``."""
from __future__ import annotations

from datetime import date

from flask import current_app, request
from flask_appbuilder.api import expose
from sqlalchemy import select

from app.extensions import db
from app.http_errors import json_error
from app.services.errors import DomainError
from app.services.recuperation import balance as balances
from app.services.recuperation import complaints as complaints_svc
from app.services.recuperation import declarations as svc
from app.services.recuperation import policy as policies
from app.services.recuperation import reservations
from app.validators import normalize_text
from models.members import Member
from models.organizations import Org, OrgLevel
from models.recuperation import (BaseStatus, Declaration, Product, ProductCategory, ProductStatus, RecupBase,
                                 RecupType)

from ..api import DOMAIN_STATUS, JsonApi, _json_body, bound_endpoint

STATUS = {**DOMAIN_STATUS, "window_closed": 409, "type_locked": 409, "travel_started": 409, "no_policy": 404,
          "invalid_transition": 409}
BOUND = "该账户未绑定会员"


def _year() -> int:
    raw = request.args.get("year") or (_json_body().get("year") if request.is_json else None)
    if raw is None or raw == "":
        return policies.beijing_today().year
    if isinstance(raw, int) and not isinstance(raw, bool) and 2000 <= raw <= 2100:
        return raw
    if isinstance(raw, str) and raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    raise DomainError("年度须为 2000 至 2100 的整数", code="bad_request")


def _date(value, label: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(f"{label}格式有误（如 2025-05-01）", code="bad_request") from None


class RecuperationApi(JsonApi):
    """What the 疗养助手 front end calls for the logged-in member."""

    resource_name = "recuperation"
    openapi_spec_tag = "疗休养"

    def refuse(self, err: DomainError):
        db.session.rollback()
        return json_error(STATUS.get(err.code, 400), err.code, err.message)

    @expose("/policy", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def policy(self, member_id):
        """This year's policy as it applies to me: window, types allowed to me, budget, commitment.
        ---
        get:
          responses:
            200: {description: the policy}
            404: {description: no_policy or not_bound}
        """
        policy = policies.get_policy(db.session, _year())
        member = db.session.get(Member, member_id)
        return self.response(200, result={
            "year": policy.year, "opens_on": policy.opens_on.isoformat(),
            "closes_on": policy.closes_on.isoformat() if policy.closes_on else None,
            "types": [{"value": t, "label": RecupType.label_of(t)} for t in policies.types_for(db.session, policy,
                                                                                                  member)],
            "budget": f"{policy.budget:.2f}", "commitment_text": policy.commitment_text,
            "last_union": {"id": member.org_id, "name": member.org.name},
            "has_citizen_card": member.holds_citizen_card})  # 市内 types need it (refused without)

    @expose("/orgs/search", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def orgs_search(self, member_id):
        """模糊查询 base unions by name (at least 2 characters; 20 at most).
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}}
          responses:
            200: {description: "[{id, name}]"}
        """
        q = normalize_text(request.args.get("q"))[:60]
        if len(q) < 2:
            raise DomainError("请至少输入2个字", code="bad_request")
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = db.session.scalars(select(Org).where(Org.level == OrgLevel.BASE, Org.name.like(f"%{escaped}%",
                                                                                              escape="\\"))
                                  .order_by(Org.name).limit(20))
        return self.response(200, result=[{"id": o.id, "name": o.name} for o in rows])

    @expose("/orgs/tree", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def orgs_tree(self, member_id):
        """组织树: the children of ``parent_id`` (the root without it).
        ---
        get:
          parameters:
          - {in: query, name: parent_id, schema: {type: integer}}
          responses:
            200: {description: "[{id, name, level, leaf}]"}
        """
        raw = request.args.get("parent_id", "")
        if raw and not (raw.isdigit() and len(raw) < 10):
            raise DomainError("parent_id 须为整数", code="bad_request")
        parent = int(raw) if raw else None
        stmt = select(Org).where(Org.level != OrgLevel.PENDING)
        stmt = stmt.where(Org.parent_id == parent) if parent else stmt.where(Org.parent_id.is_(None))
        rows = db.session.scalars(stmt.order_by(Org.path).limit(500))
        return self.response(200, result=[{"id": o.id, "name": o.name, "level": o.level_label,
                                           "leaf": o.level == OrgLevel.BASE} for o in rows])

    @expose("/products", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def products(self, member_id):
        """On-sale products (of a base, a category) with the remaining capacity on ``date``.
        ---
        get:
          parameters:
          - {in: query, name: date, schema: {type: string}}
          - {in: query, name: category, schema: {type: string}}
          - {in: query, name: base, schema: {type: integer}}
          responses:
            200: {description: products}
        """
        day = _date(request.args.get("date"), "日期")
        stmt = (select(Product).join(RecupBase, RecupBase.id == Product.base_id)
                .where(Product.status == ProductStatus.ON_SALE, RecupBase.status == BaseStatus.ACTIVE))
        category = request.args.get("category")
        if category:
            if category not in {c.value for c in ProductCategory}:
                raise DomainError("产品类别有误", code="bad_request")
            stmt = stmt.where(Product.category == category)
        base = request.args.get("base", "")
        if base:
            if not (base.isdigit() and len(base) < 10):
                raise DomainError("base 须为整数", code="bad_request")
            stmt = stmt.where(Product.base_id == int(base))
        rows = db.session.scalars(stmt.order_by(RecupBase.name, Product.name).limit(500)).all()
        return self.response(200, result=[{
            "id": p.id, "base": p.base.name, "base_id": p.base_id, "category": p.category,
            "category_label": p.category_label, "name": p.name, "price": f"{p.price:.2f}",
            "group_price": f"{p.group_price:.2f}", "daily_capacity": p.daily_capacity,
            "remaining": reservations.remaining(db.session, p, day) if day else None} for p in rows])

    @expose("/declaration", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def declaration(self, member_id):
        """My plan for the year (404 when none).
        ---
        get:
          responses:
            200: {description: the plan}
            404: {description: not_found}
        """
        year = _year()
        found = svc.declaration_of(db.session, member_id, year)
        if found is None:
            return json_error(404, "not_found", f"您尚未填报{year}年度计划")
        return self.response(200, result=svc.describe(found, policies.get_policy(db.session, year)))

    @expose("/declarations/<int:declaration_id>", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def declaration_by_id(self, member_id, declaration_id):
        """One plan by id: mine only (another member's → 404).
        ---
        get:
          parameters:
          - {in: path, name: declaration_id, required: true, schema: {type: integer}}
          responses:
            200: {description: the plan}
            404: {description: not_found}
        """
        found = db.session.scalar(select(Declaration).where(Declaration.id == declaration_id,
                                                            Declaration.member_id == member_id))
        if found is None:
            return json_error(404, "not_found", "记录不存在")
        return self.response(200, result=svc.describe(found, policies.get_policy(db.session, found.year)))

    @expose("/declaration", methods=["PUT"])
    @bound_endpoint("member_id", BOUND)
    def save(self, member_id):
        """Save my plan (a draft), or modify a submitted one and resubmit it at once (version + 1);
        ``submit: true`` with ``commitment: true`` also submits a draft (计划上报) in the same request.
        ---
        put:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    year: {type: integer}
                    type: {type: string, description: city_all city_county prov_unit prov_platform out_unit out_platform frontline none}
                    org_id: {type: integer, description: 所在基层工会 (tree or search)}
                    unit_name: {type: string, description: 手动输入单位名称 (a pending org, 2 hours)}
                    destination: {type: string}
                    days: {type: array, items: {type: object}, description: '[{"date": "2025-05-01", "items": [{"product_id": 1, "quantity": 1}]}]'}
                    submit: {type: boolean, description: 保存并上报 (a draft)}
                    commitment: {type: boolean, description: 已阅读并同意承诺书 (with submit)}
          responses:
            200: {description: saved; warnings (e.g. the excess over 400 is the worker's)}
            400: {description: itinerary_invalid and other refusals}
            409: {description: type_locked, sold_out, window_closed, travel_started}
        """
        body = _json_body()
        member, existing = svc.declaring(db.session, member_id, _year())
        org_id = body.get("org_id")
        if org_id is not None and (isinstance(org_id, bool) or not isinstance(org_id, int) or not 0 < org_id < 2**31):
            raise DomainError("org_id 须为整数", code="bad_request")
        for key in ("type", "unit_name", "destination"):
            if body.get(key) is not None and not isinstance(body.get(key), str):
                raise DomainError(f"{key} 须为文本", code="bad_request")
        result = svc.save_declaration(
            db.session, member=member, year=_year(), type=body.get("type") or "", actor=_actor(), org_id=org_id, unit_name=body.get("unit_name"), days=body.get("days"),
            destination=body.get("destination"), planned_from=_date(body.get("planned_from"), "计划开始日期"),
            planned_to=_date(body.get("planned_to"), "计划结束日期"), submit=body.get("submit") is True,
            commitment=body.get("commitment") is True, existing=existing)
        return self.response(200, result=svc.describe(result.declaration), warnings=result.warnings)

    @expose("/declaration/submit", methods=["POST"])
    @bound_endpoint("member_id", BOUND)
    def submit(self, member_id):
        """计划上报 (the commitment ticked): bookings taken, the type locked.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    year: {type: integer}
                    commitment: {type: boolean, description: 已阅读并同意承诺书}
          responses:
            200: {description: submitted}
            409: {description: sold_out, window_closed, invalid_transition}
        """
        body = _json_body()
        found = svc.declaration_of(db.session, member_id, _year())
        if found is None:
            return json_error(404, "not_found", "请先填报计划")
        result = svc.submit_declaration(db.session, found.id, actor=_actor(), commitment=body.get("commitment") is True,
                                        scope=Declaration.member_id == member_id)
        return self.response(200, result=svc.describe(result.declaration), warnings=result.warnings)

    @expose("/declaration/cancel", methods=["POST"])
    @bound_endpoint("member_id", BOUND)
    def cancel(self, member_id):
        """取消计划 before travel: bookings released (the type stays locked for the year).
        ---
        post:
          responses:
            200: {description: cancelled}
            409: {description: invalid_transition or travel_started}
        """
        found = svc.declaration_of(db.session, member_id, _year())
        if found is None:
            return json_error(404, "not_found", "请先填报计划")
        declaration = svc.cancel_declaration(db.session, found.id, actor=_actor(),
                                             scope=Declaration.member_id == member_id)
        return self.response(200, result=svc.describe(declaration))

    @expose("/balance", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def balance(self, member_id):
        """余额查询: the year's entitlement − actual consumption.
        ---
        get:
          responses:
            200: {description: "{entitlement, consumed, balance}"}
        """
        result = balances.balance_of(db.session, member_id, _year())
        return self.response(200, result={"entitlement": f"{result.entitlement:.2f}",
                                          "consumed": f"{result.consumed:.2f}", "balance": f"{result.balance:.2f}"})

    @expose("/complaints", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def complaints(self, member_id):
        """My complaints, newest first, with status and reply.
        ---
        get:
          responses:
            200: {description: "[{id, base, content, status_label, reply…}]"}
        """
        return self.response(200, result=[complaints_svc.describe(db.session, c)
                                          for c in complaints_svc.member_complaints(db.session, member_id)])

    @expose("/complaints/<int:complaint_id>", methods=["GET"])
    @bound_endpoint("member_id", BOUND)
    def complaint(self, member_id, complaint_id):
        """One complaint: mine only (another member's → 404).
        ---
        get:
          parameters:
          - {in: path, name: complaint_id, required: true, schema: {type: integer}}
          responses:
            200: {description: the complaint}
            404: {description: not_found}
        """
        found = complaints_svc.member_complaint(db.session, member_id, complaint_id)
        return self.response(200, result=complaints_svc.describe(db.session, found))

    @expose("/complaints", methods=["POST"])
    @bound_endpoint("member_id", BOUND)
    def complaint_create(self, member_id):
        """投诉 (S000:L47): ``content``, optional ``base_id``; multipart ``files`` (pictures / PDFs, 5 at most).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    content: {type: string}
                    base_id: {type: integer}
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    content: {type: string}
                    base_id: {type: integer}
                    files: {type: array, items: {type: string, format: binary}}
          responses:
            201: {description: filed (待处理)}
            400: {description: bad_request, file_refused}
        """
        body = {**request.form.to_dict(), **_json_body()}
        base_id = body.get("base_id")
        if isinstance(base_id, str):
            base_id = int(base_id) if base_id.isdigit() and len(base_id) < 10 else (None if not base_id else -1)
        limit = current_app.config["ATTACHMENT_MAX_BYTES"] + 1
        files = [(f.filename, f.read(limit)) for f in request.files.getlist("files")[:complaints_svc.MAX_FILES + 1]
                 if f and f.filename]
        complaint = complaints_svc.file_complaint(db.session, member=db.session.get(Member, member_id),
                                                  actor=_actor(), content=body.get("content"), base_id=base_id,
                                                  files=files)
        return self.response(201, result=complaints_svc.describe(db.session, complaint))


def _actor():
    from ..api import api_user

    return api_user()
