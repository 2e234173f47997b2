"""普惠活动 views: merchants, coupons (授权), claim activities (review, 活动审核, open/close, 生成券码,
处理轨迹), vouchers and 结算汇总."""
from __future__ import annotations

from flask import current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectField

from app.extensions import db
from app.masking import mask_name
from app.security import ScopeKind, current_user, org_scope_clause, scope_kind
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
    ActivityEligibility,
    ActivityRunStatus,
    ActivityScope,
    ActivityStatus,
    ClaimLimit,
    Coupon,
    CouponType,
    Merchant,
    MerchantType,
    Voucher,
    VoucherStatus,
)

from .base import ReviewFlowMixin, ScopedInterface, ScopedModelView, as_list, scope_rel, send_xlsx_once
from .form_validators import Pure
from .images import ImageColumnsMixin


def _own_merchant() -> bool:
    return scope_kind(current_user()) == ScopeKind.OWN_MERCHANT


def _name_or_blank(row) -> str:
    return getattr(row, "name", None) or getattr(row, "username", None) or ""


class MerchantView(ImageColumnsMixin, ScopedModelView):
    """商家: managed by the unions of the user's scope; 上线 / 下线. A 商家管理员 edits its own profile,
    without the columns only its union decides (管理工会, 商家类型; 上线 is an action of the union)."""

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
    union_only_columns = ("org", "type")  # not in a 商家管理员's own profile form

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        full, union_only = self.edit_form, self.union_only_columns

        class ProfileForm(full):
            @classmethod
            def refresh(cls, obj=None):
                form = cls(obj=obj)
                if _own_merchant():
                    for name in union_only:
                        del form[name]
                return form

        self.edit_form = ProfileForm

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["edit"] = self.edit_widget(form=form, include_cols=[c for c in self.edit_columns if c in form],
                                           exclude_cols=exclude_cols or [], fieldsets=self.edit_fieldsets)
        return widgets

    def prepare(self, item, is_created):
        svc.prepare_merchant(item)

    def _set_online(self, items, online: bool):
        for merchant in as_list(items):
            merchant.online = online
        db.session.commit()
        flash(f"已{'上线' if online else '下线'} {len(as_list(items))} 个商家", "success")
        return redirect(url_for(".list"))

    @action("online", "上线", "确定将所选商家上线？上线后可核销电子券。", icon="fa-arrow-up")
    def go_online(self, items):
        return self._set_online(items, True)

    @action("offline", "下线", "确定将所选商家下线？下线的商家不能核销电子券。", icon="fa-arrow-down")
    def go_offline(self, items):
        return self._set_online(items, False)


def redeemer_roles() -> set[str]:
    """The roles whose accounts may redeem (券码核销): candidates for a coupon authorized to a person."""
    return {label for label, role in current_app.extensions["union_roles"].items()
            if "redeem" in role.grants.get("RedeemView", [])}


class CouponView(ScopedModelView):
    """优惠券 of the merchants in scope; 授权 to other online merchants or to a person."""

    datamodel = ScopedInterface(Coupon)
    merchant_column = "merchant_id"
    list_title = show_title = add_title = edit_title = _l("Coupons")
    list_columns = ["title", "type_label", "merchant", "face_value", "quantity", "remaining", "valid_from", "valid_to",
                    "enabled"]
    search_columns = ["title", "name", "merchant", "enabled", "valid_to"]
    add_columns = edit_columns = ["merchant", "type", "title", "name", "quantity", "valid_from", "valid_to",
                                  "face_value", "usage_condition", "intro", "enabled"]
    show_columns = [c if c != "type" else "type_label" for c in add_columns] + ["allocated", "remaining"]
    label_columns = {"merchant": _l("Merchant"), "title": _l("Title"), "name": _l("Coupon name"),
                     "type": _l("Coupon type"), "type_label": _l("Coupon type"),
                     "quantity": _l("Quantity"), "allocated": _l("Allocated"), "remaining": _l("Remaining"),
                     "valid_from": _l("Valid from"), "valid_to": _l("Valid to"), "face_value": _l("Face value"),
                     "usage_condition": _l("Usage condition"), "intro": _l("Introduction"), "enabled": _l("Enabled")}
    description_columns = {"valid_from": "券可核销的开始时间（精确到分钟）", "valid_to": "券可核销的截止时间，到期未核销即过期",
                           "face_value": "福利的价值（元）；用于已提交审核的活动后不能再修改"}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"merchant": scope_rel(merchant_column="id")}
    add_form_extra_fields = edit_form_extra_fields = {
        "type": SelectField(_l("Coupon type"), choices=CouponType.choices(), default=CouponType.UNION_ACTIVITY.value)}
    base_order = ("id", "desc")

    method_permission_name = {"authorize": "edit", "revoke": "edit", "partners": "edit"}

    def prepare(self, item, is_created):
        if item.merchant is not None:
            item.merchant_id = item.merchant.id
        svc.prepare_coupon(db.session, item)

    def show_context(self, item):
        can = self.appbuilder.sm.has_access("can_edit", self.class_permission_name)
        return {"authorizations": svc.authorizations_of(db.session, item.id), "can_authorize": can}

    @expose("/partners/<int:pk>")
    @has_access
    def partners(self, pk):
        """Search-as-you-type: online merchants this coupon may be authorized to (≥ 2 characters)."""
        coupon = self.scoped_item(pk)
        rows = svc.authorization_candidates(db.session, coupon, request.args.get("q", ""))
        return jsonify([{"id": str(m.id), "text": f"{m.name}（{m.org.name}）"} for m in rows])

    @expose("/authorize/<int:pk>", methods=["POST"])
    @has_access
    def authorize(self, pk):
        coupon = self.scoped_item(pk)
        try:
            username = (request.form.get("username") or "").strip()
            if username:
                user = svc.find_redeemer_account(db.session, username, redeemer_roles())
                if user is None:
                    raise DomainError(f"未找到可核销的账户「{username}」（须为启用的商家管理员账户，请输入完整用户名）")
                svc.authorize_coupon(db.session, coupon, user=user)
                flash(f"已授权个人账户「{user.username}」核销此券（核销计入「{coupon.merchant.name}」）", "success")
            else:
                merchant_id = request.form.get("merchant_id", "")
                merchant = db.session.get(Merchant, int(merchant_id)) if merchant_id.isdigit() and \
                    len(merchant_id) < 10 else None
                if merchant is None:
                    raise DomainError("请输入商家名称并从列表中选择要授权的商家")
                svc.authorize_coupon(db.session, coupon, merchant=merchant)
                flash(f"已授权「{merchant.name}」核销此券", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=coupon.id))

    @expose("/revoke/<int:pk>", methods=["POST"])
    @has_access
    def revoke(self, pk):
        coupon = self.scoped_item(pk)
        raw = request.form.get("authorization_id", "")
        try:
            svc.revoke_authorization(db.session, coupon, int(raw) if raw.isdigit() and len(raw) < 10 else 0)
            flash("已取消授权", "success")
        except DomainError as err:
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=coupon.id))


RUN_ACTIONS = {action for (_status, action) in ACTIVITY_RUN_FLOW}  # 开启, 关闭 (关闭 also withdraws)


def _trail_link(pk) -> Markup:
    href = escape(url_for(f"{request.blueprint}.show", pk=pk) + "#trail")
    return Markup(f'<a class="btn btn-xs btn-default trail-link" href="{href}">处理轨迹</a>')


class ActivityColumns:
    """What every activity list shows (seed 003 fig. 29, L453): shared by 活动管理 and 活动审核."""

    datamodel = ScopedInterface(Activity)
    list_columns = ["title", "org", "type", "run_status_label", "status_label", "start_at", "end_at", "claim_count",
                    "participant_count", "redeemed_count", "reviewed_at", "trail_pk"]
    search_columns = ["title", "status", "run_status", "merchants", "start_at"]
    lookup_columns = {"merchants": (Merchant, "org_id", ())}
    show_columns = ["title", "cover_image", "org", "status_label", "run_status_label", "eligibility", "claim_limit",
                    "claims_per_day", "scope", "start_at", "end_at", "content", "reviewed_at", "vouchers_generated"]
    label_columns = {"title": _l("Activity title"), "org": _l("Publishing union"), "type": _l("Type"),
                     "status_label": _l("Review status"), "run_status_label": _l("Status"), "status": _l("Review status"),
                     "run_status": _l("Status"), "claim_limit": _l("Claim limit"), "claims_per_day": _l("Claims per day"),
                     "scope": _l("Scope"), "eligibility": _l("Eligibility"), "start_at": _l("Start"), "end_at": _l("End"),
                     "content": _l("Content"), "vouchers_generated": _l("Vouchers generated"),
                     "reviewed_at": _l("Reviewed at"), "merchants": _l("Merchant"), "claim_count": "报名人数",
                     "participant_count": "参与人数", "redeemed_count": "核销数", "trail_pk": "审核记录"}
    formatters_columns = {"type": lambda v: "领券活动", "claim_limit": ClaimLimit.label_of,
                          "scope": ActivityScope.label_of, "eligibility": ActivityEligibility.label_of,
                          "trail_pk": _trail_link}
    base_order = ("id", "desc")

    def activity_context(self, item, flow: dict) -> dict:
        """Trail, counts and the flow steps this user may take from the row's state."""
        sm = self.appbuilder.sm
        steps = actions_from(ACTIVITY_FLOW, item.status) + (
            actions_from(ACTIVITY_RUN_FLOW, item.run_status) if item.status == ActivityStatus.APPROVED else [])
        by_action = {a: t for (_s, a), t in flow.items()}
        allowed = [a for a in dict.fromkeys(steps) if a in by_action
                   and sm.has_access(f"can_{by_action[a].permission}", self.class_permission_name)]
        claims, members, redeemed = svc.activity_counts(db.session, [item.id]).get(item.id, (0, 0, 0))
        return {
            "trail": trail_of(db.session, Activity, item.id),
            "status_label": lambda v: ActivityStatus.label_of(v) if v in set(ActivityStatus) else
            ActivityRunStatus.label_of(v),
            "flow_actions": allowed,
            "flow_labels": {a: t.label for a, t in by_action.items()},
            "activity_counts": {"报名人数": claims, "参与人数": members, "核销数": redeemed},
            "prizes": item.prizes,
        }


class ActivityView(ActivityColumns, ImageColumnsMixin, ReviewFlowMixin, ScopedModelView):
    """领券活动: 草稿 → 待审核 → 审核通过 / 驳回; 关闭 after submission (撤回); 开启 / 关闭 toggle; 生成券码
    (confirmed); 处理轨迹; counts and totals."""

    list_title = show_title = add_title = edit_title = _l("Activities")
    lookup_columns = ActivityColumns.lookup_columns  # ScopedModelView reads its own class's
    add_columns = edit_columns = ["org", "title", "eligibility", "claim_limit", "claims_per_day", "scope", "start_at",
                                  "end_at", "content"]
    image_columns = {"cover_image": _l("Cover image")}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": scope_rel("id")}
    add_form_extra_fields = edit_form_extra_fields = {
        "claim_limit": SelectField(_l("Claim limit"), choices=ClaimLimit.choices()),
        "scope": SelectField(_l("Scope"), choices=ActivityScope.choices()),
        "eligibility": SelectField(_l("Eligibility"), choices=ActivityEligibility.choices(),
                                   default=ActivityEligibility.ALL.value),
    }
    review_flow = {**ACTIVITY_FLOW, **ACTIVITY_RUN_FLOW}
    method_permission_name = {"generate": "generate", "prize": "edit"}

    def prepare(self, item, is_created):
        if is_created:
            item.created_by_id = getattr(current_user(), "id", None)
        svc.prepare_activity(item, is_created=is_created)

    def check_edit(self, item):
        svc.check_activity_editable(item)

    def check_state_delete(self, item):
        svc.check_activity_deletable(item)

    def apply_review(self, item_id, action_name, reason):
        scope = org_scope_clause(Activity.org_id, current_user())
        if action_name in RUN_ACTIONS:
            svc.operate_activity(db.session, item_id, action_name, actor=current_user(), scope_clause=scope)
        else:
            svc.review_activity(db.session, item_id, action_name, actor=current_user(), reason=reason,
                                scope_clause=scope)

    @expose("/generate/<int:pk>", methods=["GET", "POST"])
    @has_access
    def generate(self, pk):
        """生成券码, confirmed on its own page that says how many codes it creates."""
        activity = self.scoped_item(pk)
        if request.method == "GET":
            return self.render_template("union/generate_confirm.html", title="生成券码", activity=activity,
                                        count=svc.vouchers_to_generate(activity))
        try:
            flash(f"已生成 {svc.generate_vouchers(db.session, activity.id)} 个券码", "success")
        except DomainError as err:
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=activity.id))

    @expose("/prize/<int:pk>", methods=["POST"])
    @has_access
    def prize(self, pk):
        """奖品: add a coupon and quantity while the activity is still editable."""
        activity = self.scoped_item(pk)
        raw_coupon, raw_quantity = request.form.get("coupon_id", ""), (request.form.get("quantity") or "").strip()
        try:
            if not raw_quantity.lstrip("-").isdigit() or len(raw_quantity) > 12:
                raise DomainError("奖品数量须为正整数")
            quantity = int(raw_quantity)
            coupon = db.session.scalar(select(Coupon).where(
                Coupon.id == (int(raw_coupon) if raw_coupon.isdigit() and len(raw_coupon) < 10 else 0),
                org_scope_clause(Coupon.org_id, current_user())))
            if coupon is None:
                raise DomainError("请选择管辖范围内的优惠券")
            svc.add_prize(db.session, activity.id, coupon.id, quantity)
            flash(f"已添加奖品：{coupon.title} × {quantity}", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=activity.id))

    def show_context(self, item):
        sm = self.appbuilder.sm
        editable = item.status in (ActivityStatus.DRAFT, ActivityStatus.REJECTED) and sm.has_access(
            "can_edit", self.class_permission_name)
        return {
            **self.activity_context(item, self.review_flow),
            "can_generate": item.status == ActivityStatus.APPROVED and not item.vouchers_generated
            and sm.has_access("can_generate", self.class_permission_name),
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


REVIEW_STEPS = {key: t for key, t in ACTIVITY_FLOW.items() if t.permission == "review"}


class ActivityReviewView(ActivityColumns, ReviewFlowMixin, ScopedModelView):
    """活动审核 (seed 003 L299): the 待审核 activities of the reviewer's subtree, approve / reject."""

    list_title = show_title = _l("Activity review")
    base_permissions = ["can_list", "can_show", "can_review"]
    base_filters = [["status", FilterEqual, ActivityStatus.PENDING.value]]
    search_columns = ["title", "merchants", "start_at"]
    lookup_columns, label_columns = ActivityColumns.lookup_columns, ActivityColumns.label_columns
    review_flow = REVIEW_STEPS

    def apply_review(self, item_id, action_name, reason):
        svc.review_activity(db.session, item_id, action_name, actor=current_user(), reason=reason,
                            scope_clause=org_scope_clause(Activity.org_id, current_user()))

    def show_context(self, item):
        return self.activity_context(item, self.review_flow)


class VoucherView(ScopedModelView):
    """券码 and 核销明细: the settlement detail (export) and the per-activity, per-merchant 结算汇总."""

    datamodel = ScopedInterface(Voucher)
    merchant_column = "redeemed_merchant_id"  # a merchant settles what it redeemed
    base_permissions = ["can_list", "can_show", "can_export", "can_settle"]
    list_template = "union/voucher_list.html"
    list_title = show_title = _l("Vouchers")
    list_columns = ["code", "activity", "coupon", "face_value", "status_label", "member_masked", "claimed_at",
                    "redeemed_at", "redeemed_merchant", "redeemed_by"]
    show_columns = list_columns + ["expires_at"]
    search_columns = ["activity", "status", "redeemed_at", "claimed_at", "code"]
    label_columns = {"code": "券码", "activity": "活动", "coupon": "优惠券", "face_value": "面值（元）",
                     "status_label": "状态", "status": "状态", "member_masked": "会员", "claimed_at": "领取时间",
                     "redeemed_at": "核销时间", "redeemed_merchant": "核销商家", "redeemed_by": "核销人",
                     "expires_at": "有效期至"}
    formatters_columns = {"redeemed_merchant": _name_or_blank, "redeemed_by": _name_or_blank,
                          "status": VoucherStatus.label_of}
    base_order = ("id", "desc")
    lookup_columns = {"activity": (Activity, "org_id", ())}
    export_fields = (
        ExportField("券码", Voucher.code), ExportField("活动", Activity.title), ExportField("优惠券", Coupon.title),
        ExportField("会员", Member.name, mask_name), ExportField("领取时间", Voucher.claimed_at, as_local_naive),
        ExportField("核销时间", Voucher.redeemed_at, as_local_naive), ExportField("核销商家", Merchant.name),
        ExportField("核销人", AppUser.username), ExportField("面值", Voucher.face_value, svc.money),
        ExportField("状态", Voucher.status, VoucherStatus.label_of),
    )
    export_joins = ((Activity, Voucher.activity_id == Activity.id), (Coupon, Voucher.coupon_id == Coupon.id),
                    (Member, Voucher.member_id == Member.id), (Merchant, Voucher.redeemed_merchant_id == Merchant.id),
                    (AppUser, Voucher.redeemed_by_id == AppUser.id))

    def list_buttons(self):
        buttons = super().list_buttons()
        if self.appbuilder.sm.has_access("can_settle", self.class_permission_name):
            buttons.append({"id": "settle-link", "href": url_for(f"{self.endpoint}.settle", **request.args),
                            "label": "结算汇总", "icon": "fa-calculator", "style": "primary"})
        return buttons

    @expose("/settle/")
    @has_access
    def settle(self):
        """结算汇总 of the filtered redemptions: per activity and merchant, count × the vouchers' frozen
        face values (Decimal); the page, or the xlsx with ``?format=xlsx``."""
        ids = self.datamodel._apply_inner_all(db.session.query(Voucher.id), self.request_filters(),
                                              aliases_mapping={})
        rows = svc.settlement_summary(db.session, Voucher.id.in_(ids.subquery().select()))
        count, total = svc.settlement_totals(rows)
        args = request.args.to_dict(flat=False)
        if request.args.get("format") != "xlsx":
            filters = {k: v for k, v in request.args.items() if k != "format"}
            return self.render_template("union/settlement.html", title="结算汇总", rows=rows, count=count,
                                        total=total, download=url_for(".settle", format="xlsx", **filters),
                                        back=url_for(".list", **filters))
        with store().scratch(".xlsx") as path:
            sheet = StreamingSheet(path, "结算汇总", ["活动", "核销商家", "核销张数", "面值合计（元）"])
            for row in rows:
                sheet.write([row.activity, row.merchant, row.count, row.total])
            sheet.write(["合计", "", count, total])
            sheet.close()
            exports.audit_export(db.session, actor=current_user(), title="结算汇总", count=len(rows), args=args)
            return send_xlsx_once(path, "结算汇总")
