"""组织与单位 views: the org tree (tree page + fuzzy search), orgs and units CRUD."""
from __future__ import annotations

from flask import request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from app.extensions import db
from app.masking import mask_phone
from app.security import current_user
from app.services import organizations as svc
from app.services.errors import DomainError
from app.services.exports import ExportField
from app.validators import validate_mobile, validate_uscc
from models.organizations import Org, OrgLevel, Unit, UnitNature

from .base import ScopedInterface, ScopedModelView, scope_rel
from .form_validators import NotMoreThan, NotNegative, Pure, UniqueValue

ORG_LABELS = {
    "name": _l("Organization name"), "code": _l("Code"), "level": _l("Level"), "level_label": _l("Level"),
    "parent": _l("Parent organization"), "uscc": _l("USCC"), "chairman": _l("Chairman"),
    "contact": _l("Contact"), "phone": _l("Phone"), "address": _l("Address"), "path": _l("Path"),
}


class OrgView(ScopedModelView):
    """工会组织: CRUD inside the own subtree; the tree page is OrgTreeView."""

    datamodel = ScopedInterface(Org)
    scope_column = "id"
    list_title = show_title = add_title = edit_title = _l("Organizations")
    list_columns = ["name", "level_label", "code", "parent", "chairman", "phone"]
    search_columns = ["name", "code", "level", "chairman"]
    add_columns = ["parent", "name", "code", "uscc", "chairman", "contact", "phone", "address"]
    edit_columns = ["name", "code", "uscc", "chairman", "contact", "phone", "address"]
    show_columns = ["name", "level_label", "code", "parent", "uscc", "chairman", "contact", "phone", "address"]
    label_columns = ORG_LABELS
    base_order = ("path", "asc")
    add_form_query_rel_fields = {"parent": scope_rel("id")}
    validators_columns = {"uscc": [Pure(validate_uscc, optional=True)]}
    export_fields = (
        ExportField("名称", Org.name), ExportField("层级", Org.level, OrgLevel.label_of), ExportField("编码", Org.code),
        ExportField("统一社会信用代码", Org.uscc), ExportField("工会主席", Org.chairman),
        ExportField("联系人", Org.contact), ExportField("联系电话", Org.phone, mask_phone),
        ExportField("地址", Org.address),
    )

    def prepare(self, item, is_created):
        if is_created:
            parent = item.parent
            if parent is None:
                raise DomainError("请选择上级组织")
            if parent.level == OrgLevel.BASE:
                raise DomainError("基层工会下不能再建下级工会")
            item.level = OrgLevel.COUNTY if parent.level == OrgLevel.CITY else OrgLevel.BASE
            item.path = ""
        svc.prepare_org(db.session, item)

    def post_add(self, item):
        svc.set_org_path(db.session, item)
        db.session.commit()


class UnitView(ScopedModelView):
    """单位: employers of the base unions in scope (seed 003 fig. 20)."""

    datamodel = ScopedInterface(Unit)
    list_title = show_title = add_title = edit_title = _l("Units")
    list_columns = ["name", "uscc", "org", "leader", "phone", "nature_label", "employee_count", "migrant_count"]
    search_columns = ["name", "uscc", "org", "nature", "industry", "wage_negotiation"]
    add_columns = edit_columns = [
        "org", "name", "uscc", "leader", "phone", "nature", "economic_type", "industry",
        "wage_negotiation", "contract_valid_until", "address", "employee_count", "migrant_count", "remark",
    ]
    show_columns = [c if c != "nature" else "nature_label" for c in add_columns]
    label_columns = {
        "name": _l("Unit name"), "uscc": _l("USCC"), "org": _l("Base union"), "leader": _l("Leader"),
        "phone": _l("Phone"), "nature": _l("Nature"), "nature_label": _l("Nature"),
        "economic_type": _l("Economic type"), "industry": _l("Industry"),
        "wage_negotiation": _l("Collective wage negotiation"), "contract_valid_until": _l("Contract valid until"),
        "address": _l("Address"), "employee_count": _l("Employees"), "migrant_count": _l("Migrant workers"),
        "remark": _l("Remark"),
    }
    base_order = ("id", "desc")
    export_fields = (
        ExportField("单位名称", Unit.name), ExportField("统一社会信用代码", Unit.uscc), ExportField("所属基层工会", Org.name),
        ExportField("单位负责人", Unit.leader), ExportField("联系电话", Unit.phone, mask_phone),
        ExportField("单位性质", Unit.nature, UnitNature.label_of), ExportField("所属行业", Unit.industry),
        ExportField("职工人数", Unit.employee_count), ExportField("农民工人数", Unit.migrant_count),
    )
    export_joins = ((Org, Unit.org_id == Org.id),)
    _base_unions = scope_rel("id", ["level", FilterEqual, OrgLevel.BASE])
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": _base_unions}
    lookup_columns = {"org": (Org, "id", (Org.level == OrgLevel.BASE,))}
    add_form_extra_fields = edit_form_extra_fields = {
        "nature": SelectField(_l("Nature"), choices=UnitNature.choices()),
    }
    validators_columns = {
        "uscc": [Pure(validate_uscc, optional=True), UniqueValue(Unit.uscc, "该统一社会信用代码已登记")],
        "phone": [Pure(lambda p: validate_mobile(p) if str(p).strip().startswith("1") else p, optional=True)],
        "employee_count": [NotNegative()],
        "migrant_count": [NotNegative(), NotMoreThan("employee_count", "农民工人数不能超过职工人数")],
    }

    def prepare(self, item, is_created):
        svc.prepare_unit(db.session, item)

    def check_delete(self, item):
        svc.check_unit_deletable(db.session, item)


class OrgTreeView(BaseView):
    """组织树: the scope as an indented tree, with fuzzy search by name."""

    route_base = "/orgtree"
    default_view = "tree"

    @expose("/")
    @has_access
    def tree(self):
        query = (request.args.get("q") or "").strip()
        user = current_user()
        matches = svc.search_orgs(db.session, user, query) if query else None
        orgs = svc.org_tree(db.session, user, matches)
        base_depth = min((o.depth for o in orgs), default=0)
        return self.render_template("union/org_tree.html", orgs=orgs, q=query, base_depth=base_depth,
                                    match_ids={m.id for m in matches or []}, title=_l("Organization tree"))
