"""会员单位注册 (public) and the office's 注册/审核 pool."""
from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.masking import mask_phone
from app.security import current_user
from app.services.attachments import attachments_of
from app.services.errors import DomainError
from app.services.exports import ExportField
from app.services.mutual_aid import registration as svc
from app.services.review_flow import actions_from, trail_of
from models.mutual_aid import REGISTRATION_FLOW, MemberUnit, RegistrationStatus
from models.organizations import Org, UnitNature

from ..attachments import AttachmentsMixin
from ..base import ReviewFlowMixin, ScopedInterface, ScopedModelView

MAX_CERTIFICATES = 5


class RegistrationView(BaseView):
    """单位注册 (S004:L25–32): public, no login; the contact's mobile proven by an SMS code."""

    route_base = "/register"
    default_view = "register"

    @expose("/", methods=["GET", "POST"])
    def register(self):
        data = request.form.to_dict()
        if request.method == "POST":
            uploads = [f for f in request.files.getlist("certificates") if f and f.filename][:MAX_CERTIFICATES]
            limit = current_app.config["ATTACHMENT_MAX_BYTES"] + 1
            try:
                unit = svc.register_unit(db.session, data, code=data.get("code", ""),
                                         certificates=[(f.filename, f.read(limit)) for f in uploads])
            except svc.RegistrationInvalidError as err:
                db.session.rollback()
                for message in err.errors.values():
                    flash(message, "danger")
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "danger")
            else:
                return self.render_template("union/mutual_aid/registered.html", title="注册申请已提交", unit=unit)
        return self.render_template("union/mutual_aid/register.html", title="会员单位注册", data=data,
                                    offices=svc.offices(db.session), natures=UnitNature.choices())

    @expose("/code", methods=["POST"])
    def code(self):
        """发送验证码: JSON for the page's button (the uploads stay selected), a page otherwise."""
        try:
            svc.send_registration_code(db.session, request.form.get("contact_mobile", ""))
            ok, message = True, "验证码已发送至联系人手机，5分钟内有效"
        except DomainError as err:
            db.session.rollback()
            ok, message = False, err.message
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify(ok=ok, message=message), 200 if ok else 400
        flash(message, "info" if ok else "danger")
        return redirect(url_for(".register"))


class MemberUnitView(AttachmentsMixin, ReviewFlowMixin, ScopedModelView):
    """注册/审核: the office's pool (subtree); a unit handler sees his own unit's registration data."""

    datamodel = ScopedInterface(MemberUnit)
    member_unit_column = "id"
    base_permissions = ["can_list", "can_show", "can_export", "can_review", "can_operate"]
    exclude_route_methods = {"add", "edit", "delete", "download"}  # registrations come from the public page
    list_title = show_title = _l("Member units")
    list_columns = ["name", "uscc", "contact_name", "contact_mobile_masked", "org", "status_label", "registered_at",
                    "username"]
    show_columns = ["name", "uscc", "nature_label", "address", "org", "contact_name", "contact_mobile_masked", "email",
                    "invoice_title", "tax_number", "status_label", "reject_reason", "username", "registered_at"]
    search_columns = ["name", "uscc", "status", "registered_at"]
    label_columns = {"name": "单位名称", "uscc": "统一社会信用代码", "nature_label": "单位性质", "address": "单位地址",
                     "org": "所属办事处", "contact_name": "联系人", "contact_mobile_masked": "联系人手机",
                     "email": "接收发票邮箱", "invoice_title": "发票抬头", "tax_number": "纳税人识别号",
                     "status_label": "状态", "status": "状态", "reject_reason": "驳回原因", "username": "登录用户名",
                     "registered_at": "提交时间"}
    base_order = ("id", "desc")
    show_template = "union/mutual_aid/member_unit_show.html"
    review_flow = {k: t for k, t in REGISTRATION_FLOW.items() if k[1] != "resubmit"}
    export_fields = (
        ExportField("单位名称", MemberUnit.name), ExportField("统一社会信用代码", MemberUnit.uscc),
        ExportField("联系人", MemberUnit.contact_name), ExportField("联系人手机", MemberUnit.contact_mobile, mask_phone),
        ExportField("所属办事处", Org.name), ExportField("状态", MemberUnit.status, RegistrationStatus.label_of),
        ExportField("登录用户名", MemberUnit.username),
    )
    export_joins = ((Org, MemberUnit.org_id == Org.id),)

    def apply_review(self, item_id, action, reason):
        svc.review_registration(db.session, item_id, action, actor=current_user(), reason=reason)

    def show_context(self, item):
        sm = self.appbuilder.sm
        allowed = [a for a in actions_from(self.review_flow, item.status)
                   if sm.has_access(f"can_{self.review_flow[(item.status, a)].permission}", self.class_permission_name)]
        return {"trail": trail_of(db.session, MemberUnit, item.id), "flow_actions": allowed,
                "status_label": RegistrationStatus.label_of,
                "flow_labels": {a: t.label for (_s, a), t in self.review_flow.items()},
                "certificates": attachments_of(db.session, item, svc.CERTIFICATE),
                "proposed_username": svc.proposed_username(db.session, item)
                if item.status == RegistrationStatus.PENDING else None}

    @expose("/list/")
    @has_access
    def list(self):
        # the pool opens on what waits (待审核) unless the user filters otherwise
        if not any(key.startswith("_flt_") for key in request.args) and current_user() is not None \
                and current_user().member_unit_id is None:
            return redirect(url_for(".list", _flt_0_status=RegistrationStatus.PENDING.value, **request.args))
        return super().list()
