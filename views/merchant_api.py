"""商家端 redemption API (JWT) for scanners: verify a code, then redeem it.

The account must be bound to a merchant; every refusal is ``{"code": …, "message": …}``.
"""
from __future__ import annotations

from flask_appbuilder.api import expose

from app.extensions import db
from app.services import vouchers as svc
from models.base import DISPLAY_TZ

from .api import JsonApi, bound_endpoint


def _redeemer(user):
    """The account's merchant, or the person authorized on coupons (A-23); None when neither."""
    redeemer = svc.Redeemer.of(user)
    return redeemer if svc.may_redeem_anything(db.session, redeemer) else None


merchant_endpoint = bound_endpoint(_redeemer, "该账户未绑定商家，也未获授权核销任何优惠券")


class MerchantVoucherApi(JsonApi):
    """Scan → verify → redeem, for the merchant's own and authorized coupons."""

    resource_name = "merchant-vouchers"
    openapi_spec_tag = "商家核销"

    @expose("/<code>", methods=["GET"])
    @merchant_endpoint
    def verify(self, redeemer, code):
        """Verify a scanned or typed code before redeeming it.
        ---
        get:
          parameters:
          - voucher_code
          responses:
            200:
              description: >-
                coupon, face value, member (masked name), status, ``redeemable``, and ``problem``
                ({code, message}: already_redeemed with when and where, expired, not_yet_valid, not_claimed,
                merchant_offline) when it cannot be redeemed
            403:
              description: not_authorized (another merchant's coupon) or forbidden
            404:
              description: voucher_not_found, or not_bound (the account has no merchant)
        """
        return self.response(200, result=svc.preview_voucher(db.session, code, redeemer))

    @expose("/<code>/redeem", methods=["POST"])
    @merchant_endpoint
    def redeem(self, redeemer, code):
        """Redeem (核销) a code: exactly once, by an authorized merchant or person, inside its window.
        ---
        post:
          parameters:
          - voucher_code
          responses:
            200:
              description: the redeemed voucher (code, coupon, face value, redeemed_at)
            409:
              description: >-
                already_redeemed (message says when and where), expired, not_yet_valid (「该券自 … 起可核销」),
                not_claimed or merchant_offline
            403:
              description: not_authorized (another merchant's coupon) or forbidden
            404:
              description: voucher_not_found, or not_bound (the account has no merchant)
        """
        voucher = svc.redeem_voucher(db.session, code, redeemer=redeemer)
        return self.response(200, result={
            "code": voucher.code, "coupon": voucher.coupon.title, "face_value": str(svc.money(voucher.face_value)),
            "member": voucher.member_masked, "status": voucher.status, "status_label": voucher.status_label,
            "merchant": voucher.redeemed_merchant.name,
            "redeemed_at": voucher.redeemed_at.astimezone(DISPLAY_TZ).isoformat()})
