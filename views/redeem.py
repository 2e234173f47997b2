"""核销: a merchant operator (or a person authorized on coupons) scans or types a code, sees what it is,
and confirms."""
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
        redeemer = svc.Redeemer.of(current_user())
        preview = None
        code = (request.form.get("code") or "").strip()[:64]
        if not svc.may_redeem_anything(db.session, redeemer):
            flash("您的账户未绑定商家，也未获授权核销任何优惠券，不能核销", "danger")
        elif request.method == "POST" and code:
            try:
                if request.form.get("step") == "confirm":
                    done = svc.redeem_voucher(db.session, code, redeemer=redeemer)
                    flash(f"核销成功：{done.coupon.title}（面值 {svc.money(done.face_value)} 元，"
                          f"计入「{done.redeemed_merchant.name}」）", "success")
                    code = ""
                else:
                    preview = svc.preview_voucher(db.session, code, redeemer)
            except DomainError as err:
                flash(err.message, "danger")
        return self.render_template("union/redeem.html", title=_l("Redeem vouchers"), code=code, preview=preview)
