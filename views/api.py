"""REST APIs (JWT): scoped like the views; personal data only masked."""
from __future__ import annotations

import functools
import json
import re

import prison
from flask import Response, g, request, url_for
from flask_appbuilder.api import BaseApi, ModelRestApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.http_errors import http_error, json_error
from app.security import FilterInScope, ScopeArgs, current_user, scope_kind
from app.services import members
from app.services.errors import DomainError
from models.members import Member

from .base import ScopedInterface
from .members import MEMBER_LABELS

_MEMBER_COLUMNS = ["id", "member_no", "name", "gender", "birth_date", "id_number_masked", "phone_masked",
                   "org.name", "unit.name", "status", "cert_status"]


# HTTP status of each domain error code the APIs answer with (default 400)
DOMAIN_STATUS = {
    "not_found": 404, "voucher_not_found": 404, "not_authorized": 403,
    "sold_out": 409, "limit_reached": 409, "activity_closed": 409, "not_started": 409,
    "already_redeemed": 409, "expired": 409, "not_claimed": 409, "not_yet_valid": 409, "merchant_offline": 409,
    "not_certified": 403, "not_active": 403, "not_eligible": 403,
    "member_not_found": 404, "already_pending": 409, "already_verified": 409, "already_bound": 409,
    "phone_registered": 409, "invalid_transition": 409,
}


# path parameters the self-service endpoints share; a docstring lists one by name: ``- voucher_code``
PATH_PARAMETERS = {
    "voucher_code": {"name": "code", "required": True, "schema": {"type": "string"},
                     "description": "券码 (scanned or typed; case, spaces and dashes do not matter)"},
    "activity_id": {"name": "activity_id", "required": True, "schema": {"type": "integer"}},
}


class JsonApi(BaseApi):
    """FAB's BaseApi whose own refusals (bad request, 401, 403, 404, 500) are Chinese JSON with a code."""

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for name, parameter in PATH_PARAMETERS.items():
            if name not in api_spec.components.parameters:
                api_spec.components.parameter(name, "path", dict(parameter))

    def refuse(self, err: DomainError):
        return json_error(DOMAIN_STATUS.get(err.code, 400), err.code, err.message)

    def response_400(self, message: str = None):
        return http_error(400)

    def response_401(self):
        return http_error(401)

    def response_403(self):
        return http_error(403)

    def response_404(self):
        return http_error(404)

    def response_422(self, message: str = None):
        return http_error(400)

    def response_500(self, message: str = None):
        return http_error(500)


def bound_endpoint(attr, message: str):
    """The one decorator of a self-service endpoint: FAB's ``protect`` and ``safe``; the account's
    bound id (``attr``: ``member_id``, ``merchant_id``, or a function of the user) passed in, a JSON
    404 ``not_bound`` without one; a DomainError raised by the endpoint answered as ``refuse`` does."""
    resolve = attr if callable(attr) else (lambda user: getattr(user, attr, None))

    def decorator(f):
        @functools.wraps(f)
        def wrapper(self, *args, **kwargs):
            user = api_user()
            bound = resolve(user) if user is not None else None
            if bound is None:
                return json_error(404, "not_bound", message)
            try:
                return f(self, bound, *args, **kwargs)
            except DomainError as err:
                return self.refuse(err)

        return protect()(safe(wrapper))

    return decorator


def api_user():
    return getattr(g, "user", None) or current_user()


def _refuse_malformed_rison():
    """FAB's rison parser recurses without end on unbalanced input (``q=((((``): a 400 first."""
    value = request.args.get("q")
    if value is None:
        return None
    try:
        prison.loads(value)
    except (prison.decoder.ParserException, RecursionError, ValueError, IndexError, TypeError):
        try:
            json.loads(value)
        except ValueError:
            return json_error(400, "bad_request", "查询参数 q 格式有误")
    return None


class ScopedRestApi(ModelRestApi, JsonApi):
    """FAB's ModelRestApi closed where it is open by default (every ModelRestApi derives from this):

    - ``_info`` describes add/edit fields only for the routes the API serves (a GET-only API
      listed every org and unit of the city as relation choices), and a served relation field
      must declare its (scoped) choices in ``add_query_rel_fields`` / ``edit_query_rel_fields``;
    - ``q`` filters obey views/base/filters.py (search columns only, masked columns exact);
    - refusals are Chinese JSON (JsonApi); a Chinese reason of ours is passed on as the message.
    """

    def _init_properties(self) -> None:
        super()._init_properties()
        # (FAB's _info calls its own merge functions, not overrides: empty the columns instead)
        if not self.serves("post"):
            self.add_columns = []
        if not self.serves("put"):
            self.edit_columns = []
        for method, columns, rel_fields in (("post", self.add_columns, self.add_query_rel_fields),
                                            ("put", self.edit_columns, self.edit_query_rel_fields)):
            unscoped = [c for c in columns if self.datamodel.is_relation(c) and c not in rel_fields]
            if self.serves(method) and unscoped:
                raise TypeError(f"{type(self).__name__}: scope the choices of {unscoped} "
                                f"({'add' if method == 'post' else 'edit'}_query_rel_fields)")
        self._filters.guard(self.class_permission_name, self.label_columns)

    def serves(self, method: str) -> bool:
        included = self.include_route_methods is None or method in self.include_route_methods
        return included and method not in (self.exclude_route_methods or set())

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(_refuse_malformed_rison)
        return blueprint

    def response_400(self, message=None):
        if isinstance(message, str) and re.search(r"[\u4e00-\u9fff]", message):
            return json_error(400, "bad_request", message)
        return http_error(400)


class MemberApi(ScopedRestApi):
    """会员 (read-only) for administrators' integrations: scoped, masked."""

    resource_name = "member"
    openapi_spec_tag = "会员管理"
    datamodel = ScopedInterface(Member)
    include_route_methods = {"get", "get_list", "info"}
    base_filters = [["org_id", FilterInScope, ScopeArgs()]]
    list_columns = show_columns = _MEMBER_COLUMNS
    search_columns = ["name", "member_no", "id_number", "status", "cert_status"]  # id_number: exact only
    label_columns = {**MEMBER_LABELS, "id": "ID", "org.name": MEMBER_LABELS["org"], "unit.name": MEMBER_LABELS["unit"]}
    list_title = show_title = add_title = edit_title = "会员"
    order_columns = ["id", "name", "member_no"]
    base_order = ("id", "desc")
    page_size = 20


class MeApi(JsonApi):
    """The member's own profile (scope ``self``): what the WeChat/app front ends call."""

    resource_name = "me"
    openapi_spec_tag = "会员自助服务"

    @expose("/", methods=["GET"])
    @bound_endpoint("member_id", "该账户未绑定会员")
    def profile(self, member_id):
        """The logged-in member's own record.
        ---
        get:
          responses:
            200:
              description: the member, personal data masked
            404:
              description: the account is not bound to a member
        """
        user, member = api_user(), db.session.get(Member, member_id)
        return self.response(200, result={
            "member_no": member.member_no, "name": member.name, "id_number": member.id_number_masked,
            "phone": member.phone_masked, "org": member.org.name, "status": member.status,
            "status_label": member.status_label, "cert_status": member.cert_status,
            "cert_status_label": member.cert_status_label, "scope": str(scope_kind(user)),
        })

    @expose("/certification", methods=["POST"])
    @bound_endpoint(lambda user: user, "请先登录")
    def certify(self, user):
        """工会会员认证: name and ID number matched against the registry → 待审核 (reviewed by the base union).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    name: {type: string, description: 姓名}
                    id_number: {type: string, description: 身份证号}
          responses:
            200:
              description: submitted; cert_status 待审核 (the account is now bound to the member)
            400:
              description: bad_request (name or ID number missing)
            404:
              description: member_not_found 「未查询到会员信息」
            409:
              description: already_pending, already_verified or already_bound
        """
        body = _json_body()
        member = members.submit_self_certification(db.session, user, name=body.get("name"),
                                                   id_number=body.get("id_number"))
        return self.response(200, result={"member_no": member.member_no, "cert_status": member.cert_status,
                                          "cert_status_label": member.cert_status_label,
                                          "message": "认证申请已提交，请等待所在基层工会审核"})

    @expose("/card", methods=["GET"])
    @expose("/card/<int:card_id>", methods=["GET"])
    @bound_endpoint("member_id", "该账户未绑定会员")
    def card(self, member_id, card_id=None):
        """会员服务卡: the member's own card (member number, district union, QR image, status, coverage).
        ---
        get:
          responses:
            200:
              description: the card; ``barcode_url`` serves the QR code of the member number
            404:
              description: no card (or a card of another member)
        """
        from app.services.service_cards import cards
        from app.services.service_cards.coverage import beijing_date

        card = cards.card_of_member(db.session, member_id, card_id)
        return self.response(200, result=cards.card_payload(
            db.session, card, qr_url=url_for("MeApi.card_qr", card_id=card.id), today=beijing_date()))

    @expose("/card/<int:card_id>/qr.svg", methods=["GET"])
    @bound_endpoint("member_id", "该账户未绑定会员")
    def card_qr(self, member_id, card_id):
        """The QR code (SVG) of the member number on the member's own card.
        ---
        get:
          responses:
            200:
              description: image/svg+xml
            404:
              description: not the member's card
        """
        from app.services.service_cards import cards

        card = cards.card_of_member(db.session, member_id, card_id)
        return Response(cards.barcode_svg(card.member_no), mimetype="image/svg+xml")

    @expose("/card/report-loss", methods=["POST"])
    @bound_endpoint("member_id", "该账户未绑定会员")
    def report_loss(self, member_id):
        """挂失: the member reports his own 正常 card lost.
        ---
        post:
          responses:
            200:
              description: the card is 挂失
            404:
              description: no card
            409:
              description: the card is not 正常
        """
        from app.services.service_cards import cards

        card = cards.report_own_loss(db.session, member_id, actor=api_user())
        return self.response(200, result={"id": card.id, "status": card.status, "status_label": card.status_label,
                                          "message": "已挂失，请联系所在工会办理补卡"})


class MemberRegistrationApi(JsonApi):
    """用户注册 in the member app (public: no account yet; the phone proven by an SMS code, rate-limited)."""

    resource_name = "register"
    openapi_spec_tag = "会员自助服务"

    def _public(self, call):
        try:
            return call()
        except DomainError as err:
            db.session.rollback()
            return self.refuse(err)

    @expose("/regions", methods=["GET"])
    @safe
    def regions(self):
        """注册地区: the city and district federations to choose from.
        ---
        get:
          responses:
            200:
              description: "[{id, name}]"
        """
        return self.response(200, result=[{"id": org.id, "name": org.name}
                                          for org in members.registration_regions(db.session)])

    @expose("/code", methods=["POST"])
    @safe
    def code(self):
        """发送验证码 to a mobile without an account (1 a minute, 10 a day).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    phone: {type: string}
          responses:
            200:
              description: sent (5 minutes valid)
            400:
              description: phone_invalid, code_too_soon or code_daily_limit
            409:
              description: phone_registered
        """
        body = _json_body()

        def send():
            members.send_member_registration_code(db.session, body.get("phone"))
            return self.response(200, result={"message": "验证码已发送，5分钟内有效"})

        return self._public(send)

    @expose("/", methods=["POST"])
    @safe
    def register(self):
        """用户注册: phone, password, SMS code, region, agreement → an account (user name = phone).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    phone: {type: string}
                    password: {type: string}
                    code: {type: string, description: 短信验证码}
                    region_id: {type: integer, description: 注册地区 (GET /api/v1/register/regions)}
                    agree: {type: boolean, description: 同意用户协议}
          responses:
            201:
              description: registered; log in with the phone, then submit 工会会员认证
            400:
              description: >-
                agreement_required, phone_invalid, password_weak, region_invalid, code_missing,
                code_invalid, code_expired or code_locked
            409:
              description: phone_registered
        """
        body = _json_body()

        def create():
            user = members.register_member_account(
                db.session, phone=body.get("phone"), password=body.get("password"), code=body.get("code"),
                region_id=body.get("region_id"), agreed=body.get("agree"))
            return self.response(201, result={"username": user.username,
                                              "message": "注册成功，请登录后进行工会会员认证"})

        return self._public(create)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}
