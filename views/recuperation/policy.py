"""年度疗休养政策: one row per year, edited by the city admin."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.models.sqla.filters import FilterEqual
from wtforms import SelectMultipleField
from wtforms.validators import DataRequired

from app.services.recuperation import policy as svc
from models.organizations import OrgLevel
from models.recuperation import RecuperationPolicy, RecupType

from ..base import ScopedInterface, ScopedModelView, scope_rel


class PolicyView(ScopedModelView):
    """申报窗口 (Beijing calendar days), allowed types, the 400 reference, 承诺书, 市内-区县 counties."""

    datamodel = ScopedInterface(RecuperationPolicy)
    scope_column = None  # one city-wide policy per year
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    exclude_route_methods = {"delete", "download"}
    list_title = show_title = add_title = edit_title = "年度疗休养政策"
    list_columns = ["year", "opens_on", "closes_on", "budget", "entitlement", "allowed_types_label"]
    show_columns = ["year", "opens_on", "closes_on", "allowed_types_label", "destinations", "budget", "entitlement",
                    "counties", "commitment_text"]
    add_columns = ["year", "opens_on", "closes_on", "allowed_types", "destinations", "budget", "entitlement",
                   "counties", "commitment_text"]
    edit_columns = ["opens_on", "closes_on", "allowed_types", "destinations", "budget", "entitlement", "counties",
                    "commitment_text"]
    search_columns = ["year"]
    label_columns = {"year": "年度", "opens_on": "申报开放日期", "closes_on": "申报截止日期",
                     "allowed_types": "允许的疗休养类型", "allowed_types_label": "允许的疗休养类型",
                     "destinations": "省外对口支援地区", "budget": "参考标准（元）", "entitlement": "年度额度（元）",
                     "counties": "开放「市内-区县」的区县", "commitment_text": "承诺书"}
    description_columns = {"opens_on": "北京时间当日 0 时起接受申报（默认 1 月 10 日）",
                           "budget": "计划金额超出参考标准时提示超出部分由职工自理，不作限制",
                           "entitlement": "余额 = 年度额度 − 实际消费"}
    add_form_extra_fields = edit_form_extra_fields = {
        "allowed_types": SelectMultipleField("允许的疗休养类型", choices=RecupType.choices(),
                                             widget=Select2ManyWidget(), validators=[DataRequired("请至少选择一种类型")]),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "counties": scope_rel("id", ["level", FilterEqual, OrgLevel.COUNTY])}
    base_order = ("year", "desc")

    def prepare(self, item, is_created):
        svc.validate_policy(item)
