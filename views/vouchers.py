"""普惠活动 views: merchants, coupons, claim activities (review, open/close, 生成券码, 处理轨迹)."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField

from app.extensions import db
from app.masking import mask_name
from app.security import current_user, org_scope_clause
from app.services import exports
from app.services import vouchers as svc
from app.services.errors import DomainError
from app.services.exports import ExportField
from app.services.review_flow import actions_from, trail_of
from app.storage import store
from app.validators import validate_mobile
from app.xlsx.writer import StreamingSheet
from models.base import as_local_naive
from models.members import Member
from models.security import AppUser
from models.vouchers import (
    ACTIVITY_FLOW,
    ACTIVITY_RUN_FLOW,
    Activity,
    ActivityRunStatus,
    ActivityScope,
    ActivityStatus,
    ClaimLimit,
    Coupon,
    CouponAuthorization,
    Merchant,
    MerchantType,
    Voucher,
    VoucherStatus,
)

from .base import ReviewFlowMixin, ScopedInterface, ScopedModelView, as_list, scope_rel, send_xlsx_once
from .form_validators import Pure
from .images import ImageColumnsMixin


class MerchantView(ImageColumnsMixin, ScopedModelView):
    """商家: managed by the unions of the user's scope; 上线 / 下线."""

    datamodel = ScopedInterface(Merchant)
    merchant_column = "id"
    list_title = show_title = add_title = edit_title = _l("Merchants")
    list_columns = ["name", "type_label", "service_type", "contact", "mobile", "org", "online"]
    search_columns = ["name", "type", "service_type", "online", "org"]
    add_columns = edit_columns = ["org", "name", "type", "contact", "mobile", "landline", "service_type", "tags",
                                  "region", "address", "intro", "settled_date", "longitude", "latitude"]
    show_columns = [c if c != "type" else "type_label" for c in add_columns] + ["licence_image", "logo_image", "online"]
    label_columns = {"name": _l("Merchant name"), "type": _l("Type"), "type_label": _l("Type"),
                     "service_type": _l("Service type"), "contact": _l("Contact"), "mobile": _l("Mobile"),
                     "landline": _l("Landline"), "tags": _l("Tags"), "region": _l("Region"), "address": _l("Address"),
                     "intro": _l("Introduction"), "settled_date": _l("Settled date"), "longitude": _l("Longitude"),
                     "latitude": _l("Latitude"), "online": _l("Online"), "org": _l("Managing union")}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": scope_rel("id")}
    add_form_extra_fields = edit_form_extra_fields = {"type": SelectField(_l("Type"), choices=MerchantType.choices())}
    image_columns = {"licence_image": _l("Business licence"), "logo_image": _l("Logo")}
    base_order = ("id", "desc")
    method_permission_name = {"go_online": "operate", "go_offline": "operate"}
    validators_columns = {"mobile": [Pure(validate_mobile, optional=True)]}

    def prepare(self, item, is_created):
        svc.prepare_merchant(item)

    def _set_online(self, items, online: bool):
        for merchant in as_list(items):
            merchant.online = online
        db.session.commit()
        flash(f"已{'上线' if online else '下线'} {len(as_list(items))} 个商家", "success")
        return redirect(url_for(".list"))

    @action("online", "上线", icon="fa-arrow-up")
    def go_online(self, items):
        return self._set_online(items, True)

    @action("offline", "下线", icon="fa-arrow-down")
    def go_offline(self, items):
        return self._set_online(items, False)


class CouponView(ScopedModelView):
    """优惠券 of the merchants in scope."""

    datamodel = ScopedInterface(Coupon)
    merchant_column = "merchant_id"
    list_title = show_title = add_title = edit_title = _l("Coupons")
    list_columns = ["title", "merchant", "face_value", "quantity", "remaining", "valid_from", "valid_to", "enabled"]
    search_columns = ["title", "name", "merchant", "enabled", "valid_to"]
    add_columns = edit_columns = ["merchant", "title", "name", "quantity", "valid_from", "valid_to", "face_value",
                                  "usage_condition", "intro", "enabled"]
    show_columns = add_columns + ["allocated", "remaining"]
    label_columns = {"merchant": _l("Merchant"), "title": _l("Title"), "name": _l("Coupon name"),
                     "quantity": _l("Quantity"), "allocated": _l("Allocated"), "remaining": _l("Remaining"),
                     "valid_from": _l("Valid from"), "valid_to": _l("Valid to"), "face_value": _l("Face value"),
                     "usage_condition": _l("Usage condition"), "intro": _l("Introduction"), "enabled": _l("Enabled")}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"merchant": scope_rel(merchant_column="id")}
    base_order = ("id", "desc")

    method_permission_name = {"authorize": "edit"}

    def prepare(self, item, is_created):
        if item.merchant is not None:
            item.merchant_id = item.merchant.id
        svc.prepare_coupon(db.session, item)

    def _merchants_in_scope(self):
        return db.session.scalars(select(Merchant).where(org_scope_clause(Merchant.org_id, current_user()))
                                  .order_by(Merchant.name)).all()

    def show_context(self, item):
        authorized = db.session.scalars(select(Merchant).join(
            CouponAuthorization, CouponAuthorization.merchant_id == Merchant.id)
            .where(CouponAuthorization.coupon_id == item.id)).all()
        can = self.appbuilder.sm.has_access("can_edit", self.class_permission_name)
        return {"authorized_merchants": authorized,
                "authorize_choices": [m for m in self._merchants_in_scope() if m.id != item.merchant_id
                                      and m not in authorized] if can else []}

    @expose("/authorize/<pk>", methods=["POST"])
    @has_access
    def authorize(self, pk):
        coupon = self.scoped_item(pk)
        merchant = db.session.scalar(select(Merchant).where(
            Merchant.id == int(request.form.get("merchant_id") or 0),
            org_scope_clause(Merchant.org_id, current_user())))
        try:
            if merchant is None:
                raise DomainError("请选择管辖范围内的商家")
            svc.authorize_coupon(db.session, coupon, merchant)
            flash(f"已授权「{merchant.name}」核销此券", "success")
        except DomainError as err:
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=coupon.id))


RUN_ACTIONS = {action for (_status, action) in ACTIVITY_RUN_FLOW}


class ActivityView(ImageColumnsMixin, ReviewFlowMixin, ScopedModelView):
    """领券活动: 草稿 → 待审核 → 审核通过 / 驳回; 开启 / 关闭; 生成券码; 处理轨迹; counts and totals."""

    datamodel = ScopedInterface(Activity)
    list_title = show_title = add_title = edit_title = _l("Activities")
    list_columns = ["title", "org", "type", "run_status_label", "status_label", "start_at", "end_at", "claim_count",
                    "participant_count", "redeemed_count"]
    search_columns = ["title", "status", "run_status", "start_at"]
    add_columns = edit_columns = ["org", "title", "claim_limit", "claims_per_day", "scope", "start_at", "end_at",
                                  "content"]
    image_columns = {"cover_image": _l("Cover image")}
    show_columns = ["title", "cover_image", "org", "status_label", "run_status_label", "claim_limit", "claims_per_day", "scope",
                    "start_at", "end_at", "content", "vouchers_generated"]
    label_columns = {"title": _l("Activity title"), "org": _l("Publishing union"), "type": _l("Type"),
                     "status_label": _l("Review status"), "run_status_label": _l("Status"),
                     "claim_limit": _l("Claim limit"), "claims_per_day": _l("Claims per day"), "scope": _l("Scope"),
                     "start_at": _l("Start"), "end_at": _l("End"), "content": _l("Content"),
                     "vouchers_generated": _l("Vouchers generated"), "claim_count": "报名人数",
                     "participant_count": "参与人数", "redeemed_count": "核销数"}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": scope_rel("id")}
    add_form_extra_fields = edit_form_extra_fields = {
        "claim_limit": SelectField(_l("Claim limit"), choices=ClaimLimit.choices()),
        "scope": SelectField(_l("Scope"), choices=ActivityScope.choices()),
    }
    formatters_columns = {"type": lambda v: "领券活动", "claim_limit": ClaimLimit.label_of,
                          "scope": ActivityScope.label_of}
    base_order = ("id", "desc")
    review_flow = {**ACTIVITY_FLOW, **ACTIVITY_RUN_FLOW}
    method_permission_name = {"generate": "generate", "prize": "edit"}

    def prepare(self, item, is_created):
        if is_created:
            item.created_by_id = getattr(current_user(), "id", None)
        svc.prepare_activity(item, is_created=is_created)

    def check_delete(self, item):
        svc.check_activity_deletable(item)

    def apply_review(self, item_id, action_name, reason):
        scope = org_scope_clause(Activity.org_id, current_user())
        if action_name in RUN_ACTIONS:
            svc.operate_activity(db.session, item_id, action_name, actor=current_user(), scope_clause=scope)
        else:
            svc.review_activity(db.session, item_id, action_name, actor=current_user(), reason=reason,
                                scope_clause=scope)

    @expose("/generate/<pk>", methods=["POST"])
    @has_access
    def generate(self, pk):
        activity = self.scoped_item(pk)
        try:
            flash(f"已生成 {svc.generate_vouchers(db.session, activity.id)} 个券码", "success")
        except DomainError as err:
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=activity.id))

    @expose("/prize/<pk>", methods=["POST"])
    @has_access
    def prize(self, pk):
        """奖品: add a coupon and quantity while the activity is still editable."""
        activity = self.scoped_item(pk)
        try:
            coupon_id, quantity = int(request.form.get("coupon_id") or 0), int(request.form.get("quantity") or 0)
            coupon = db.session.scalar(select(Coupon).where(Coupon.id == coupon_id,
                                                            org_scope_clause(Coupon.org_id, current_user())))
            if coupon is None:
                raise DomainError("请选择管辖范围内的优惠券")
            svc.add_prize(db.session, activity.id, coupon.id, quantity)
            flash(f"已添加奖品：{coupon.title} × {quantity}", "success")
        except ValueError:
            flash("奖品数量须为整数", "danger")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=activity.id))

    def show_context(self, item):
        sm = self.appbuilder.sm
        editable = item.status in (ActivityStatus.DRAFT, ActivityStatus.REJECTED) and sm.has_access(
            "can_edit", self.class_permission_name)
        allowed = [a for a in actions_from(ACTIVITY_FLOW, item.status) + (
            actions_from(ACTIVITY_RUN_FLOW, item.run_status) if item.status == ActivityStatus.APPROVED else [])
            if sm.has_access(f"can_{self.review_flow[next(k for k in self.review_flow if k[1] == a)].permission}",
                             self.class_permission_name)]
        claims, members, redeemed = svc.activity_counts(db.session, [item.id]).get(item.id, (0, 0, 0))
        return {
            "trail": trail_of(db.session, Activity, item.id),
            "status_label": lambda v: ActivityStatus.label_of(v) if v in set(ActivityStatus) else
            ActivityRunStatus.label_of(v),
            "flow_actions": allowed,
            "flow_labels": {a: t.label for (_s, a), t in self.review_flow.items()},
            "activity_counts": {"报名人数": claims, "参与人数": members, "核销数": redeemed},
            "can_generate": item.status == ActivityStatus.APPROVED and not item.vouchers_generated
            and sm.has_access("can_generate", self.class_permission_name),
            "prizes": item.prizes,
            "prize_coupons": db.session.scalars(select(Coupon).where(
                org_scope_clause(Coupon.org_id, current_user()), Coupon.enabled.is_(True))).all() if editable else [],
        }

    @expose("/list/")
    @has_access
    def list(self):
        # 合计 row of the seed's table: over the activities of the scope
        ids = [i for (i,) in db.session.execute(
            Activity.__table__.select().with_only_columns(Activity.id)
            .where(org_scope_clause(Activity.org_id, current_user())))]
        counts = svc.activity_counts(db.session, ids) if ids else {}
        g.list_totals = {"报名人数": sum(c[0] for c in counts.values()), "参与人数": sum(c[1] for c in counts.values()),
                         "核销数": sum(c[2] for c in counts.values())}
        return super().list()



class VoucherView(ScopedModelView):
    """券码 and 核销明细: the settlement detail (export) and the per-merchant summary (结算入帐)."""

    datamodel = ScopedInterface(Voucher)
    merchant_column = "redeemed_merchant_id"  # a merchant settles what it redeemed
    base_permissions = ["can_list", "can_show", "can_export", "can_settle"]
    list_title = show_title = _l("Vouchers")
    list_columns = ["code", "activity", "coupon", "status_label", "member_masked", "claimed_at", "redeemed_at",
                    "redeemed_merchant"]
    show_columns = list_columns + ["expires_on"]
    search_columns = ["activity", "status", "redeemed_at", "claimed_at", "code"]
    label_columns = {"code": "券码", "activity": "活动", "coupon": "优惠券", "status_label": "状态", "status": "状态",
                     "member_masked": "会员", "claimed_at": "领取时间", "redeemed_at": "核销时间",
                     "redeemed_merchant": "核销商家", "expires_on": "有效期至"}
    base_order = ("id", "desc")
    lookup_columns = {"activity": (Activity, "org_id", ())}
    export_fields = (
        ExportField("券码", Voucher.code), ExportField("活动", Activity.title), ExportField("优惠券", Coupon.title),
        ExportField("会员", Member.name, mask_name), ExportField("领取时间", Voucher.claimed_at, as_local_naive),
        ExportField("核销时间", Voucher.redeemed_at, as_local_naive), ExportField("核销商家", Merchant.name),
        ExportField("核销人", AppUser.username), ExportField("面值", Coupon.face_value, svc.money),
        ExportField("状态", Voucher.status, VoucherStatus.label_of),
    )
    export_joins = ((Activity, Voucher.activity_id == Activity.id), (Coupon, Voucher.coupon_id == Coupon.id),
                    (Member, Voucher.member_id == Member.id), (Merchant, Voucher.redeemed_merchant_id == Merchant.id),
                    (AppUser, Voucher.redeemed_by_id == AppUser.id))

    @expose("/settle/")
    @has_access
    def settle(self):
        """Per-merchant summary of the filtered redemptions: count × face value (Decimal)."""
        ids = self.datamodel._apply_inner_all(db.session.query(Voucher.id), self.request_filters(),
                                              aliases_mapping={})
        rows = svc.settlement_summary(db.session, Voucher.id.in_(ids.subquery().select()))
        with store().scratch(".xlsx") as path:
            sheet = StreamingSheet(path, "结算汇总", ["核销商家", "核销张数", "面值合计（元）"])
            for merchant, count, total in rows:
                sheet.write([merchant, count, total])
            sheet.write(["合计", sum(r[1] for r in rows), sum((r[2] for r in rows), svc.money(0))])
            sheet.close()
            exports.audit_export(db.session, actor=current_user(), title="结算汇总", count=len(rows),
                                 args=request.args.to_dict(flat=False))
            return send_xlsx_once(path, "结算汇总")
