"""核销: a merchant operator scans or types a code, sees what it is, and confirms."""
from __future__ import annotations

from flask import flash, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.security import current_user
from app.services import vouchers as svc
from app.services.errors import DomainError


class RedeemView(BaseView):
    route_base = "/redeem"
    default_view = "redeem"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def redeem(self):
        user = current_user()
        preview = done = None
        code = (request.form.get("code") or "").strip()
        if user.merchant_id is None:
            flash("您的账户未绑定商家，不能核销", "danger")
        elif request.method == "POST" and code:
            try:
                if request.form.get("step") == "confirm":
                    done = svc.redeem_voucher(db.session, code, merchant_id=user.merchant_id, operator_id=user.id)
                    flash(f"核销成功：{done.coupon.title}（面值 {svc.money(done.coupon.face_value)} 元）", "success")
                    code = ""
                else:
                    preview = svc.preview_voucher(db.session, code, user.merchant_id)
            except DomainError as err:
                flash(err.message, "danger")
        return self.render_template("union/redeem.html", title=_l("Redeem vouchers"), code=code, preview=preview)
