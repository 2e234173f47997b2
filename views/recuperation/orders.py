"""What the bases see: their orders per day (at once, S000:L39), consumption; the daily insurance
roster (S000:L56). Each list exports to xlsx through the one export path."""
from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import select

from app.extensions import db
from app.masking import mask_id_number, mask_phone
from app.security import current_user
from app.services.recuperation import orders
from app.services.review_flow import actions_from, trail_of
from app.services.exports import ExportField
from models.members import Member
from models.recuperation import (LIVE_STATUSES, RESERVATION_FLOW, Consumption, Declaration, DeclarationDay, Product, ProductCategory,
                                 RecupBase, Reservation, ReservationStatus)

from ..base import ReviewFlowMixin, ScopedInterface, ScopedModelView
from ..imports import may_import


class ReservationView(ReviewFlowMixin, ScopedModelView):
    """每日订单: a base manager sees his own base's orders only (another base's → 404) and may cancel
    one with a reason (基地取消预约: the member is told)."""

    datamodel = ScopedInterface(Reservation)
    base_column = "base_id"
    review_flow = RESERVATION_FLOW
    base_permissions = ["can_list", "can_show", "can_export", "can_cancel"]
    include_route_methods = {"list", "show", "export", "lookup", "flow_form", "action", "action_post"}
    list_title = show_title = "基地每日订单"
    list_columns = ["day", "base", "product", "quantity", "price", "member_name", "member_phone_masked", "status",
                    "created_at"]
    show_columns = list_columns + ["version", "cancelled_at"]
    search_columns = ["day", "status"]
    label_columns = {"day": "日期", "base": "基地", "product": "产品", "quantity": "数量", "price": "单价（元）",
                     "member_name": "职工姓名", "member_phone_masked": "联系电话", "status": "状态",
                     "created_at": "下单时间", "version": "计划版本", "cancelled_at": "取消时间"}
    order_columns = ["day", "created_at"]
    base_order = ("day", "asc")
    export_fields = (ExportField("日期", Reservation.day), ExportField("基地", RecupBase.name),
                     ExportField("产品类别", Product.category, ProductCategory.label_of),
                     ExportField("产品", Product.name), ExportField("数量", Reservation.quantity),
                     ExportField("单价", Reservation.price), ExportField("职工姓名", Reservation.member_name),
                     ExportField("联系电话", Reservation.member_phone, mask_phone),
                     ExportField("状态", Reservation.status, ReservationStatus.label_of))
    export_joins = ((Product, Product.id == Reservation.product_id), (RecupBase, RecupBase.id == Reservation.base_id))

    def apply_review(self, item_id, action, reason):
        orders.cancel_by_base(db.session, item_id, actor=current_user(), reason=reason)

    def show_context(self, item):
        allowed = actions_from(RESERVATION_FLOW, item.status) \
            if self.appbuilder.sm.has_access("can_cancel", self.class_permission_name) else []
        return {"flow_actions": allowed, "flow_labels": {a: t.label for (_s, a), t in RESERVATION_FLOW.items()},
                "trail": trail_of(db.session, Reservation, item.id), "status_label": ReservationStatus.label_of}


class FilterLivePlan(BaseFilter):
    """Days of submitted plans only (drafts and cancelled plans are not insured)."""

    name = "已上报计划"
    arg_name = "live"

    def apply(self, query, value):
        return query.filter(DeclarationDay.declaration_id.in_(
            select(Declaration.id).where(Declaration.status.in_(LIVE_STATUSES))))


class InsuranceRosterView(ScopedModelView):
    """每日保险名单: every declared day of a submitted plan is insured (S000:L56)."""

    datamodel = ScopedInterface(DeclarationDay)
    base_permissions = ["can_list", "can_export"]
    include_route_methods = {"list", "export", "lookup"}
    list_title = "每日保险名单"
    list_columns = ["day", "member_name", "id_number_masked", "org", "bases"]
    search_columns = ["day"]
    base_filters = [["id", FilterLivePlan, None]]
    label_columns = {"day": "日期", "member_name": "职工姓名", "id_number_masked": "证件号码", "org": "所在工会",
                     "bases": "基地"}
    order_columns = ["day"]
    base_order = ("day", "asc")
    export_fields = (ExportField("日期", DeclarationDay.day), ExportField("职工姓名", Member.name),
                     ExportField("证件号码", Member.id_number, mask_id_number), ExportField("联系电话", Member.phone,
                                                                                         mask_phone))
    export_joins = ((Declaration, Declaration.id == DeclarationDay.declaration_id),
                    (Member, Member.id == Declaration.member_id))


class ConsumptionView(ScopedModelView):
    """消费流水 (imported statements): a base manager sees his base's; admins their counties'."""

    datamodel = ScopedInterface(Consumption)
    base_column = "base_id"
    base_permissions = ["can_list", "can_export", "can_import"]  # can_import: its import kind (采集任务)
    include_route_methods = {"list", "export", "lookup"}
    list_title = "疗休养消费流水"
    list_columns = ["at", "member", "base", "amount", "serial"]
    search_columns = ["at", "serial"]
    label_columns = {"at": "消费时间", "member": "会员", "base": "基地", "amount": "金额（元）", "serial": "流水号"}
    order_columns = ["at"]
    base_order = ("at", "desc")
    export_fields = (ExportField("消费时间", Consumption.at), ExportField("会员", Member.name),
                     ExportField("基地", RecupBase.name), ExportField("金额", Consumption.amount),
                     ExportField("流水号", Consumption.serial))
    export_joins = ((Member, Member.id == Consumption.member_id), (RecupBase, RecupBase.id == Consumption.base_id))

    def list_buttons(self):
        from flask import url_for

        buttons = super().list_buttons()
        if may_import("recup_consumption"):
            buttons.append({"id": "import-consumption", "href": url_for("DataJobView.upload", kind="recup_consumption"),
                            "label": "导入消费流水", "icon": "fa-upload", "style": "default"})
        return buttons
