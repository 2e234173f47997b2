"""商家端 redemption API (JWT) for scanners: verify a code, then redeem it.

The account must be bound to a merchant; every refusal is ``{"code": …, "message": …}``.
"""
from __future__ import annotations

from flask_appbuilder.api import expose

from app.extensions import db
from app.services import vouchers as svc
from models.base import DISPLAY_TZ

from .api import JsonApi, api_user, bound_endpoint

merchant_endpoint = bound_endpoint("merchant_id", "该账户未绑定商家")


class MerchantVoucherApi(JsonApi):
    """Scan → verify → redeem, for the merchant's own and authorized coupons."""

    resource_name = "merchant-vouchers"
    openapi_spec_tag = "商家核销"

    @expose("/<code>", methods=["GET"])
    @merchant_endpoint
    def verify(self, merchant_id, code):
        """Verify a scanned or typed code before redeeming it.
        ---
        get:
          parameters:
          - voucher_code
          responses:
            200:
              description: >-
                coupon, face value, member (masked name), status, ``redeemable``, and ``problem``
                ({code, message}: already_redeemed with when and where, expired, not_claimed) when it
                cannot be redeemed
            403:
              description: not_authorized (another merchant's coupon) or forbidden
            404:
              description: voucher_not_found, or not_bound (the account has no merchant)
        """
        return self.response(200, result=svc.preview_voucher(db.session, code, merchant_id))

    @expose("/<code>/redeem", methods=["POST"])
    @merchant_endpoint
    def redeem(self, merchant_id, code):
        """Redeem (核销) a code: exactly once, by an authorized merchant, before it expires.
        ---
        post:
          parameters:
          - voucher_code
          responses:
            200:
              description: the redeemed voucher (code, coupon, face value, redeemed_at)
            409:
              description: already_redeemed (message says when and where), expired or not_claimed
            403:
              description: not_authorized (another merchant's coupon) or forbidden
            404:
              description: voucher_not_found, or not_bound (the account has no merchant)
        """
        voucher = svc.redeem_voucher(db.session, code, merchant_id=merchant_id, operator_id=api_user().id)
        return self.response(200, result={
            "code": voucher.code, "coupon": voucher.coupon.title, "face_value": str(svc.money(voucher.coupon.face_value)),
            "member": voucher.member_masked, "status": voucher.status, "status_label": voucher.status_label,
            "redeemed_at": voucher.redeemed_at.astimezone(DISPLAY_TZ).isoformat()})
