"""会员端 voucher API (JWT): open activities of the member's scope, claim, own vouchers.

Every refusal is a JSON body ``{"code": …, "message": …}`` with a stable code.
"""
from __future__ import annotations

from flask import Response, current_app
from flask_appbuilder.api import expose
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.codes import qr_png
from app.extensions import db
from app.images import image_response
from app.services import claims
from app.services.errors import NotFoundError
from app.services.vouchers import local_minute, money
from models.vouchers import Activity, ActivityStatus, Voucher

from .api import JsonApi, bound_endpoint

member_endpoint = bound_endpoint("member_id", "该账户未绑定会员")


class MemberVoucherApi(JsonApi):
    """Member self-service: activities, claims, own vouchers."""

    resource_name = "member-vouchers"
    openapi_spec_tag = "会员自助服务"

    @expose("/activities", methods=["GET"])
    @member_endpoint
    def activities(self, member_id):
        """Opened activities of the member's scope, each saying whether the member may claim now.
        ---
        get:
          responses:
            200:
              description: >-
                activities (also those not started yet: run_status not_started 未开始); ``claimable`` false
                with ``reason`` {code, message} when the member may not claim: not_certified (未完成实名认证),
                not_active (会籍状态不是在会), not_eligible (生日蛋糕: 非当月生日), not_started
            404:
              description: the account is not bound to a member
        """
        visible = claims.joinable_activities(db.session, member_id, birthday_rule=_birthday_rule())
        return self.response(200, result=[{
            "id": a.id, "title": a.title, "start_at": a.start_at.isoformat(), "end_at": a.end_at.isoformat(),
            "run_status": a.phase, "run_status_label": a.run_status_label, "eligibility": a.eligibility,
            "eligibility_label": a.eligibility_label, "claim_limit": a.claim_limit, "claims_per_day": a.claims_per_day,
            "content": a.content, "claimable": entry.claimable,
            "reason": {"code": entry.refusal.code, "message": entry.refusal.message} if entry.refusal else None,
            "cover": f"/api/v1/member-vouchers/activities/{a.id}/cover" if a.cover_image else None}
            for entry in visible for a in [entry.activity]])

    @expose("/activities/<int:activity_id>/cover", methods=["GET"])
    @member_endpoint
    def cover(self, member_id, activity_id):
        """Cover image of an approved activity the member may join.
        ---
        get:
          parameters:
          - activity_id
          responses:
            200:
              description: image/png, image/jpeg or image/webp
            404:
              description: no such activity or picture for this member (code not_found)
        """
        activity = db.session.get(Activity, activity_id)
        response = (image_response(activity.cover_image)
                    if activity is not None and activity.status == ActivityStatus.APPROVED
                    and claims.member_may_join(db.session, activity, member_id) else None)
        if response is None:
            raise NotFoundError("图片不存在")
        return response

    @expose("/activities/<int:activity_id>/claim", methods=["POST"])
    @member_endpoint
    def claim(self, member_id, activity_id):
        """Claim one voucher within the activity's limit.
        ---
        post:
          parameters:
          - activity_id
          responses:
            201:
              description: the claimed voucher
            403:
              description: not_certified, not_active or not_eligible
            404:
              description: no such activity for this member (code not_found)
            409:
              description: sold_out, limit_reached, not_started or activity_closed
        """
        return self.response(201, result=_voucher_json(claims.claim_voucher(
            db.session, activity_id, member_id, birthday_rule=_birthday_rule())))

    @expose("/mine", methods=["GET"])
    @member_endpoint
    def mine(self, member_id):
        """The member's vouchers with their status (未使用 / 已核销 / 已过期).
        ---
        get:
          responses:
            200:
              description: own vouchers, newest first
        """
        vouchers = db.session.scalars(select(Voucher).options(joinedload(Voucher.coupon))
                                      .where(Voucher.member_id == member_id)
                                      .order_by(Voucher.id.desc())).all()
        return self.response(200, result=[_voucher_json(v) for v in vouchers])


    @expose("/qr/<code>", methods=["GET"])
    @member_endpoint
    def qr(self, member_id, code):
        """QR image (PNG) of one of the member's own vouchers.
        ---
        get:
          parameters:
          - voucher_code
          responses:
            200:
              description: image/png
            404:
              description: not one of the member's vouchers (code not_found)
        """
        voucher = db.session.scalar(select(Voucher).where(Voucher.code == code, Voucher.member_id == member_id))
        if voucher is None:
            raise NotFoundError("券码不存在")
        return Response(qr_png(voucher.code), mimetype="image/png")


def _birthday_rule() -> str:
    return current_app.config.get("BIRTHDAY_MONTH_RULE", "claim_month")


def _voucher_json(voucher) -> dict:
    """A ``Voucher`` or a just ``ClaimedVoucher`` as the app sees it (``expires_at``: Beijing, to the minute)."""
    return {"code": voucher.code, "status": getattr(voucher, "current_status", voucher.status),
            "status_label": voucher.status_label, "coupon": voucher.coupon_title,
            "face_value": str(money(voucher.face_value)), "qr": f"/api/v1/member-vouchers/qr/{voucher.code}",
            "expires_at": voucher.expires_at.isoformat(), "expires_at_label": local_minute(voucher.expires_at),
            "claimed_at": voucher.claimed_at.isoformat() if voucher.claimed_at else None}
