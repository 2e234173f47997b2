"""会员端 voucher API (JWT): open activities of the member's scope, claim, own vouchers.

Every refusal is a JSON body ``{"code": …, "message": …}`` with a stable code.
"""
from __future__ import annotations

from flask import Response
from flask_appbuilder.api import expose
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.codes import qr_png
from app.extensions import db
from app.images import image_response
from app.services import claims
from app.services.errors import NotFoundError
from app.services.vouchers import money
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
        """Open activities the member may join.
        ---
        get:
          responses:
            200:
              description: activities with remaining vouchers
            404:
              description: the account is not bound to a member
        """
        visible = claims.joinable_activities(db.session, member_id)
        return self.response(200, result=[{
            "id": a.id, "title": a.title, "start_at": a.start_at.isoformat(), "end_at": a.end_at.isoformat(),
            "claim_limit": a.claim_limit, "claims_per_day": a.claims_per_day, "content": a.content,
            "cover": f"/api/v1/member-vouchers/activities/{a.id}/cover" if a.cover_image else None}
            for a in visible])

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
            404:
              description: no such activity for this member (code not_found)
            409:
              description: sold_out, limit_reached or activity_closed
        """
        return self.response(201, result=_voucher_json(claims.claim_voucher(db.session, activity_id, member_id)))

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


def _voucher_json(voucher) -> dict:
    """A ``Voucher`` or a just ``ClaimedVoucher`` as the app sees it."""
    return {"code": voucher.code, "status": voucher.status, "status_label": voucher.status_label,
            "coupon": voucher.coupon_title, "face_value": str(money(voucher.face_value)),
            "qr": f"/api/v1/member-vouchers/qr/{voucher.code}", "expires_on": voucher.expires_on.isoformat(),
            "claimed_at": voucher.claimed_at.isoformat() if voucher.claimed_at else None}
