"""REST APIs (JWT): scoped like the views; personal data only masked."""
from __future__ import annotations

from flask import g, jsonify, make_response
from flask_appbuilder.api import BaseApi, ModelRestApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.security import FilterInScope, ScopeArgs, current_user, scope_kind
from models.members import Member

from .base import ScopedInterface

_MEMBER_COLUMNS = ["id", "member_no", "name", "gender", "birth_date", "id_number_masked", "phone_masked",
                   "org.name", "unit.name", "status", "cert_status"]


def json_error(status: int, code: str, message: str):
    """Every API refusal: a JSON body with a stable code and a Chinese message."""
    return make_response(jsonify(code=code, message=message), status)


def _api_user():
    return getattr(g, "user", None) or current_user()


class MemberApi(ModelRestApi):
    """会员 (read-only) for administrators' integrations: scoped, masked."""

    resource_name = "member"
    datamodel = ScopedInterface(Member)
    include_route_methods = {"get", "get_list", "info"}
    base_filters = [["org_id", FilterInScope, ScopeArgs()]]
    list_columns = show_columns = _MEMBER_COLUMNS
    search_columns = ["name", "member_no", "status", "cert_status"]
    order_columns = ["id", "name", "member_no"]
    base_order = ("id", "desc")
    page_size = 20


class MeApi(BaseApi):
    """The member's own profile (scope ``self``): what the WeChat/app front ends call."""

    resource_name = "me"
    openapi_spec_tag = "Member self-service"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def profile(self):
        """The logged-in member's own record.
        ---
        get:
          responses:
            200:
              description: the member, personal data masked
            404:
              description: the account is not bound to a member
        """
        user = _api_user()
        member = db.session.get(Member, user.member_id) if user is not None and user.member_id else None
        if member is None:
            return json_error(404, "not_bound", "该账户未绑定会员")
        return self.response(200, result={
            "member_no": member.member_no, "name": member.name, "id_number": member.id_number_masked,
            "phone": member.phone_masked, "org": member.org.name, "status": member.status,
            "cert_status": member.cert_status, "scope": str(scope_kind(user)),
        })
