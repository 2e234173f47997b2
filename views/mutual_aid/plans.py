"""保障活动: plans managed by the office, with their benefit rules (versioned data)."""
from __future__ import annotations

import json
from datetime import date

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from app.extensions import db
from app.security import current_user
from app.services.errors import DomainError
from app.services.mutual_aid import plans as svc
from models.mutual_aid import CoverageMode, PlanKind, ProtectionPlan

from ..base import ScopedInterface, ScopedModelView, scope_rel

GENDERS = [("", "不限"), ("female", "仅女职工"), ("male", "仅男职工")]


class ProtectionPlanView(ScopedModelView):
    """保障活动 of the offices in scope; 给付规则 versions on the show page."""

    datamodel = ScopedInterface(ProtectionPlan)
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_rules"]
    method_permission_name = {"rules": "rules"}
    exclude_route_methods = {"delete", "download"}  # plans stay: enrollments refer to them
    list_title = show_title = add_title = edit_title = _l("Protection plans")
    list_columns = ["code", "name", "kind_label", "price", "price_high", "max_shares", "org", "enabled"]
    add_columns = edit_columns = ["org", "code", "name", "kind", "price", "price_high", "max_shares", "coverage_mode",
                                  "coverage_start", "coverage_end", "coverage_months", "eligible_gender", "min_age",
                                  "max_age", "on_sale_from", "on_sale_to", "enabled", "attachment_required",
                                  "attachment_note", "description"]
    show_columns = ["code", "name", "kind_label", "org", "price", "price_high", "max_shares", "coverage_mode",
                    "coverage_start", "coverage_end", "coverage_months", "eligible_gender", "min_age", "max_age",
                    "on_sale_from", "on_sale_to", "enabled", "attachment_required", "attachment_note", "description"]
    search_columns = ["code", "name", "kind", "enabled"]
    label_columns = {"code": "活动编码", "name": "保障活动名称", "kind": "保障类型", "kind_label": "保障类型",
                     "org": "所属办事处", "price": "会费单价（元/份）", "price_high": "高危会费单价（元/份）",
                     "max_shares": "最多份数", "coverage_mode": "保障期规则", "coverage_start": "保障开始日期",
                     "coverage_end": "保障结束日期", "coverage_months": "保障月数", "eligible_gender": "适用性别",
                     "min_age": "最低年龄", "max_age": "最高年龄", "on_sale_from": "参保开始日期",
                     "on_sale_to": "参保截止日期", "enabled": "是否启用", "attachment_required": "参保需上传附件",
                     "attachment_note": "附件要求", "description": "说明"}
    description_columns = {"price_high": "无高危人群请留空；有高危和普通两类人群时，开票人均单价上限为高危单价 × 份数",
                           "attachment_note": "例如：加盖公章的职工花名册；勾选「参保需上传附件」后，单位未上传附件不能提交"}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": scope_rel("id")}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField("保障类型", choices=PlanKind.choices()),
        "coverage_mode": SelectField("保障期规则", choices=CoverageMode.choices()),
        "eligible_gender": SelectField("适用性别", choices=GENDERS, validators=[Optional()]),
    }
    formatters_columns = {"coverage_mode": CoverageMode.label_of,
                          "eligible_gender": lambda v: dict(GENDERS).get(v or "", "不限")}
    base_order = ("id", "desc")
    show_template = "union/mutual_aid/plan_show.html"

    def prepare(self, item, is_created):
        if item.org is not None:
            item.org_id = item.org.id
        svc.validate_plan(item)

    def show_context(self, item):
        return {"rules": list(reversed(item.rules)), "rule_types": svc.RULE_TYPES,
                "can_rules": self.appbuilder.sm.has_access("can_rules", self.class_permission_name)}

    @expose("/rules/<int:pk>", methods=["POST"])
    @has_access
    def rules(self, pk):
        """新增给付规则版本: JSON checked by the service."""
        plan = self.scoped_item(pk)
        try:
            rule = json.loads(request.form.get("rule") or "")
        except ValueError:
            flash("给付规则须为有效的 JSON", "danger")
            return redirect(url_for(".show", pk=plan.id))
        try:
            effective = date.fromisoformat(request.form.get("effective_from") or "")
        except ValueError:
            flash("请填写生效日期（如 2025-01-01）", "danger")
            return redirect(url_for(".show", pk=plan.id))
        try:
            row = svc.add_benefit_rule(db.session, plan.id, rule, effective_from=effective,
                                       note=request.form.get("note"), actor=current_user())
            flash(f"已新增给付规则第{row.version}版", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=plan.id))
