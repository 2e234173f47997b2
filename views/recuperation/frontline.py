"""一线职工名单: the rosters a city / county federation imported (A-19), with the import button."""
from __future__ import annotations

from flask import url_for

from app.masking import mask_id_number
from app.services.exports import ExportField
from models.members import Member
from models.recuperation import FrontlineRoster

from ..base import ScopedInterface, ScopedModelView
from ..imports import may_import


class FrontlineRosterView(ScopedModelView):
    """一线职工名单 of the federations in scope (another county's rows → 404)."""

    datamodel = ScopedInterface(FrontlineRoster)
    base_permissions = ["can_list", "can_export", "can_import"]  # can_import: its import kind (采集任务)
    include_route_methods = {"list", "export", "lookup"}
    list_title = "一线职工疗休养名单"
    list_columns = ["year", "member", "id_number_masked", "member_org", "org"]
    search_columns = ["year"]
    label_columns = {"year": "年度", "member": "会员", "id_number_masked": "证件号码", "member_org": "所在工会",
                     "org": "导入单位"}
    order_columns = ["year"]
    base_order = ("year", "desc")
    export_fields = (ExportField("年度", FrontlineRoster.year), ExportField("会员", Member.name),
                     ExportField("证件号码", Member.id_number, mask_id_number))
    export_joins = ((Member, Member.id == FrontlineRoster.member_id),)

    def list_buttons(self):
        buttons = super().list_buttons()
        if may_import("recup_frontline"):
            buttons.append({"id": "import-frontline", "href": url_for("DataJobView.upload", kind="recup_frontline"),
                            "label": "导入一线职工名单", "icon": "fa-upload", "style": "default"})
        return buttons
