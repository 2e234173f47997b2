"""疗休养基地、产品与每日余量: bases (county admins), products (a base manager: his own base only)."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual
from wtforms import SelectField

from app.extensions import db
from app.services.exports import ExportField
from app.services.recuperation import catalog as svc
from models.organizations import OrgLevel
from models.recuperation import BaseStatus, Product, ProductCategory, ProductDay, ProductStatus, RecupBase

from ..base import ScopedInterface, ScopedModelView, scope_rel
from ..imports import may_import

PRODUCT_LABELS = {"base": "所属基地", "category": "产品类别", "category_label": "产品类别", "name": "产品名称",
                  "price": "职工价（元）", "group_price": "团队价（元）", "daily_capacity": "每日限量",
                  "available_from": "供应开始日期", "available_to": "供应结束日期", "status": "状态",
                  "status_label": "状态", "description": "说明", "org": "所在区县"}


class RecupBaseView(ScopedModelView):
    """疗休养基地 of the counties in scope; a base manager sees (and edits the contacts of) his own."""

    datamodel = ScopedInterface(RecupBase)
    base_column = "id"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    exclude_route_methods = {"delete", "download"}
    list_title = show_title = add_title = edit_title = "疗休养基地"
    list_columns = ["name", "org", "contact", "phone", "status"]
    show_columns = ["name", "org", "address", "contact", "phone", "status"]
    add_columns = ["name", "org", "address", "contact", "phone", "status"]
    edit_columns = ["address", "contact", "phone", "status"]
    search_columns = ["name", "status"]
    label_columns = {"name": "基地名称", "org": "所在区县", "address": "地址", "contact": "联系人", "phone": "联系电话",
                     "status": "状态"}
    add_form_query_rel_fields = {"org": scope_rel("id", ["level", FilterEqual, OrgLevel.COUNTY])}
    add_form_extra_fields = edit_form_extra_fields = {"status": SelectField("状态", choices=BaseStatus.choices())}
    base_order = ("id", "desc")

    def prepare(self, item, is_created):
        svc.validate_base(db.session, item)


class ProductView(ScopedModelView):
    """产品: 职工价 ≤ 团队价, daily capacity, 上架/下架; imported from xlsx (基地产品导入)."""

    datamodel = ScopedInterface(Product)
    base_column = "base_id"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_export"]
    exclude_route_methods = {"delete", "download"}  # past orders refer to them: 下架 instead
    list_title = show_title = add_title = edit_title = "疗休养产品"
    list_columns = ["base", "category", "name", "price", "group_price", "daily_capacity", "status"]
    show_columns = ["base", "category", "name", "price", "group_price", "daily_capacity", "available_from",
                    "available_to", "status", "description"]
    add_columns = ["base", "category", "name", "price", "group_price", "daily_capacity", "available_from",
                   "available_to", "status", "description"]
    edit_columns = ["category", "name", "price", "group_price", "daily_capacity", "available_from", "available_to",
                    "status", "description"]
    search_columns = ["name", "category", "status"]
    label_columns = PRODUCT_LABELS
    enum_columns = {"category": ProductCategory, "status": ProductStatus}
    description_columns = {"price": "疗休养基地价格不得高于团队价", "daily_capacity": "每日可预约的数量，不能低于任何一天已预约的数量"}
    add_form_query_rel_fields = {"base": scope_rel("org_id", base_column="id")}
    add_form_extra_fields = edit_form_extra_fields = {
        "category": SelectField("产品类别", choices=ProductCategory.choices()),
        "status": SelectField("状态", choices=ProductStatus.choices()),
    }
    export_fields = (ExportField("基地", RecupBase.name), ExportField("产品类别", Product.category,
                                                                   ProductCategory.label_of),
                     ExportField("产品名称", Product.name), ExportField("职工价", Product.price),
                     ExportField("团队价", Product.group_price), ExportField("每日限量", Product.daily_capacity),
                     ExportField("状态", Product.status, ProductStatus.label_of))
    export_joins = ((RecupBase, RecupBase.id == Product.base_id),)
    base_order = ("id", "desc")

    def prepare(self, item, is_created):
        svc.validate_product(db.session, item)

    def list_buttons(self):
        from flask import url_for

        buttons = super().list_buttons()
        if may_import("recup_products"):
            buttons.append({"id": "import-products", "href": url_for("DataJobView.upload", kind="recup_products"),
                            "label": "批量导入", "icon": "fa-upload", "style": "default"})
        return buttons


class CapacityView(ScopedModelView):
    """产品预约情况: reserved against capacity per product and date (xlsx export)."""

    datamodel = ScopedInterface(ProductDay)
    base_column = "base_id"
    base_permissions = ["can_list", "can_export"]
    include_route_methods = {"list", "export", "lookup"}
    list_title = "产品预约情况"
    list_columns = ["product", "day", "capacity", "reserved", "remaining"]
    search_columns = ["day"]
    label_columns = {"product": "产品", "day": "日期", "capacity": "每日限量", "reserved": "已预约", "remaining": "剩余"}
    order_columns = ["day", "reserved"]
    base_order = ("day", "asc")
    export_fields = (ExportField("基地", RecupBase.name), ExportField("产品", Product.name),
                     ExportField("日期", ProductDay.day), ExportField("每日限量", ProductDay.capacity),
                     ExportField("已预约", ProductDay.reserved),
                     ExportField("剩余", ProductDay.capacity - ProductDay.reserved))
    export_joins = ((Product, Product.id == ProductDay.product_id), (RecupBase, RecupBase.id == ProductDay.base_id))
