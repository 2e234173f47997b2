"""计划申报 in the back office: the unions' list, 代为申报 (a union clerk declares for a member),
单位审核 and 平台组团 of 平台拼团 plans, tour groups, typed-in units awaiting an account."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import inspect, select
from wtforms import SelectField

from app.extensions import db
from app.masking import mask_id_number
from app.routing import parse_id
from app.security import current_user, org_in_scope, org_scope_clause
from app.services.errors import DomainError
from app.services.exports import ExportField as _F
from app.services.recuperation import declarations as svc
from app.services.recuperation import notifications
from app.services.recuperation import policy as policies
from app.services.review_flow import trail_of
from app.validators import normalize_text
from models.members import Member
from models.organizations import Org, OrgLevel
from models.recuperation import (DECLARATION_FLOW, Declaration, DeclarationStatus, Product, ProductCategory,
                                 ProductStatus, RecupBase, RecuperationPolicy, RecupType, TourGroup, TourGroupStatus)

from ..base import ReviewFlowMixin, ScopedInterface, ScopedModelView, scope_rel

FORM_DAYS = 5
DECLARATION_LABELS = {"member": "会员", "member_name": "会员", "year": "年度", "org": "所在工会", "type": "疗休养类型",
                      "type_label": "疗休养类型", "status": "状态", "status_label": "状态", "planned_total": "计划金额（元）",
                      "over_budget": "超出参考标准", "first_travel_date": "首个出行日", "last_travel_date": "最后出行日",
                      "version": "上报次数", "destination": "目的地/线路意向", "tour_group": "拼团",
                      "first_submitted_at": "首次上报时间", "last_submitted_at": "最近上报时间"}
UNIT_REVIEW_FLOW = {k: v for k, v in DECLARATION_FLOW.items() if k[1] in ("unit_approve", "unit_reject")}


class DeclarationView(ReviewFlowMixin, ScopedModelView):
    """计划申报 of the unions in scope (read-only rows: every change goes through the services)."""

    datamodel = ScopedInterface(Declaration)
    review_flow = UNIT_REVIEW_FLOW
    base_permissions = ["can_list", "can_show", "can_declare", "can_review", "can_group", "can_export"]
    method_permission_name = {"declare": "declare", "group_assign": "group"}
    include_route_methods = {"list", "show", "declare", "group_assign", "flow_form", "action", "action_post",
                             "lookup", "export"}
    list_title = show_title = "计划申报"
    list_columns = ["member", "year", "org", "type", "status", "planned_total", "first_travel_date", "version"]
    show_columns = ["member", "year", "org", "type", "status", "destination", "planned_total", "over_budget",
                    "first_travel_date", "last_travel_date", "version", "tour_group", "first_submitted_at",
                    "last_submitted_at"]
    search_columns = ["year", "type", "status"]
    label_columns = DECLARATION_LABELS
    enum_columns = {"type": RecupType, "status": DeclarationStatus}
    show_template = "union/recuperation/declaration_show.html"
    base_order = ("id", "desc")
    export_fields = (_F("会员", Member.name), _F("证件号码", Member.id_number, mask_id_number),
                     _F("年度", Declaration.year), _F("工会", Org.name), _F("疗休养类型", Declaration.type, RecupType.label_of),
                     _F("状态", Declaration.status, DeclarationStatus.label_of),
                     _F("计划金额", Declaration.planned_total), _F("首个出行日", Declaration.first_travel_date))
    export_joins = ((Member, Member.id == Declaration.member_id), (Org, Org.id == Declaration.org_id))

    def apply_review(self, item_id, action, reason):
        svc.review_declaration(db.session, item_id, action, actor=current_user(), reason=reason)

    def list_buttons(self):
        buttons = super().list_buttons()
        if self.appbuilder.sm.has_access("can_declare", self.class_permission_name):
            buttons.append({"id": "declare-link", "href": url_for(".declare"), "label": "代为申报", "icon": "fa-plus",
                            "style": "primary"})
        return buttons

    def show_context(self, item):
        sm = self.appbuilder.sm
        groups = []
        if item.status == DeclarationStatus.UNIT_APPROVED and sm.has_access("can_group", self.class_permission_name):
            groups = db.session.scalars(select(TourGroup).where(
                TourGroup.status == TourGroupStatus.FORMING, org_scope_clause(TourGroup.org_id, current_user()))
                .order_by(TourGroup.id.desc()).limit(100)).all()
        return {"trail": trail_of(db.session, Declaration, item.id), "groups": groups,
                "status_label": DeclarationStatus.label_of,
                "can_review": item.status == DeclarationStatus.SUBMITTED and item.type in (
                    RecupType.PROV_PLATFORM, RecupType.OUT_PLATFORM) and sm.has_access("can_review",
                                                                                        self.class_permission_name)}

    @expose("/group/<pk>", methods=["POST"])
    @has_access
    def group_assign(self, pk):
        """平台组团: the plan joins the chosen group."""
        item = self.scoped_item(pk)
        group_id = parse_id(request.form.get("group_id"))
        if group_id is None:
            flash("请选择拼团", "danger")
        else:
            try:
                svc.assign_group(db.session, item.id, group_id, actor=current_user())
                flash("已加入拼团", "success")
            except DomainError as err:
                flash(err.message, "danger")
        return redirect(url_for(".show", pk=item.id))

    # --- 代为申报 -------------------------------------------------------------------------
    @expose("/declare", methods=["GET", "POST"])
    @has_access
    def declare(self):
        """A union clerk declares (or modifies) a member's plan: the same services as the member's API."""
        year = policies.beijing_today().year
        policy = db.session.scalar(select(RecuperationPolicy).where(RecuperationPolicy.year == year))
        user = current_user()
        unions = db.session.scalars(select(Org).where(org_scope_clause(Org.id, user), Org.level == OrgLevel.BASE)
                                    .order_by(Org.path).limit(500)).all()
        products = {c.value: db.session.scalars(
            select(Product).join(RecupBase, RecupBase.id == Product.base_id)
            .where(Product.category == c.value, Product.status == ProductStatus.ON_SALE, RecupBase.status == "active")
            .order_by(RecupBase.name, Product.name).limit(300)).all() for c in ProductCategory}
        form = request.form
        if request.method == "POST":
            done = self._declare_post(form, year, user)
            if done is not None:
                return done
        return self.render_template("union/recuperation/declare.html", title="代为申报", policy=policy, year=year,
                                    unions=unions, products=products, categories=list(ProductCategory),
                                    types=RecupType.choices(), form=form, days=FORM_DAYS,
                                    budget=policies.yuan(policy.budget) if policy else "400")

    def _declare_post(self, form, year, user):
        id_number = normalize_text(form.get("id_number")).upper()[:32]
        member = db.session.scalar(select(Member).where(Member.id_number == id_number,
                                                        org_scope_clause(Member.org_id, user))) if id_number else None
        if member is None:
            flash("未在您管辖的工会中找到该证件号码的会员", "danger")
            return None
        org_id = parse_id(form.get("org_id"))
        if org_id is not None and not org_in_scope(db.session, org_id, user):
            flash("所选工会不在您的管辖范围内", "danger")
            return None
        days, problems = [], []
        for n in range(1, FORM_DAYS + 1):
            raw = (form.get(f"day{n}_date") or "").strip()
            chosen = [parse_id(form.get(f"day{n}_{c.value}")) for c in ProductCategory]
            chosen = [pid for pid in chosen if pid]
            if not raw:
                if chosen:
                    problems.append(f"第{n}行选择了产品但未填日期")
                continue
            days.append({"date": raw, "items": [{"product_id": pid, "quantity": 1} for pid in chosen]})
        if problems:
            flash("；".join(problems), "danger")
            return None
        try:
            result = svc.save_declaration(
                db.session, member=member, year=year, type=form.get("type") or "", actor=user,
                org_id=org_id, unit_name=form.get("unit_name") or None, days=days,
                destination=form.get("destination"))
            declaration = result.declaration
            if form.get("submit") == "1" and declaration.status == DeclarationStatus.DRAFT:
                result = svc.submit_declaration(db.session, declaration.id, actor=user,
                                                commitment=form.get("commitment") == "y",
                                                scope=org_scope_clause(Declaration.org_id, user))
                flash(f"已为「{member.name}」上报计划，基地已收到订单", "success")
            elif declaration.status == DeclarationStatus.DRAFT:
                flash(f"已保存「{member.name}」的计划草稿", "success")
            else:
                flash(f"已修改「{member.name}」的计划并重新上报（第{declaration.version}次）", "success")
        except DomainError as err:
            flash(err.message, "danger")
            return None
        for warning in result.warnings:
            flash(warning, "warning")
        return redirect(url_for(".show", pk=result.declaration.id))


class TourGroupView(ScopedModelView):
    """平台拼团 groups of the federations in scope."""

    datamodel = ScopedInterface(TourGroup)
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    exclude_route_methods = {"delete", "download"}
    list_title = show_title = add_title = edit_title = "平台拼团"
    list_columns = ["route", "destination", "operator", "starts_on", "ends_on", "capacity", "status", "org"]
    add_columns = edit_columns = ["org", "route", "destination", "operator", "starts_on", "ends_on", "capacity",
                                  "status"]
    show_columns = list_columns
    search_columns = ["route", "destination", "status"]
    label_columns = {"route": "线路", "destination": "目的地", "operator": "承办单位", "starts_on": "出发日期",
                     "ends_on": "返回日期", "capacity": "人数上限", "status": "状态", "org": "组织单位"}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": scope_rel("id")}
    add_form_extra_fields = edit_form_extra_fields = {"status": SelectField("状态", choices=TourGroupStatus.choices())}
    base_order = ("id", "desc")

    def prepare(self, item, is_created):
        item.route, item.destination = normalize_text(item.route), normalize_text(item.destination)
        if not item.route or not item.destination:
            raise DomainError("请填写线路和目的地")
        if item.capacity is None or not 1 <= item.capacity <= 1000:
            raise DomainError("人数上限须为 1 至 1000")
        if item.starts_on and item.ends_on and item.ends_on < item.starts_on:
            raise DomainError("返回日期不能早于出发日期")
        if item.org is not None:
            item.org_id = item.org.id
        before = inspect(item).attrs.status.history.deleted
        if not is_created and item.status == TourGroupStatus.FORMED and before and before[0] != TourGroupStatus.FORMED:
            notifications.group_formed(db.session, item)   # 已成团: the members are told (same commit)


class PendingOrgView(BaseView):
    """待核实组织: units typed in by members, each with its age (red after the 2-hour SLA, A-21),
    merged by an admin into the base union he sets up for them."""

    route_base = "/recup-pending-orgs"
    default_view = "list"
    base_permissions = ["can_list", "can_resolve"]

    @expose("/")
    @has_access
    def list(self):
        user = current_user()
        rows = svc.pending_orgs(db.session, user)
        unions = db.session.scalars(select(Org).where(org_scope_clause(Org.id, user), Org.level == OrgLevel.BASE)
                                    .order_by(Org.path).limit(500)).all()
        return self.render_template("union/recuperation/pending_orgs.html", title="待核实组织（2小时内建立账户）",
                                    rows=rows, unions=unions,
                                    can_resolve=self.appbuilder.sm.has_access("can_resolve", self.class_permission_name))

    @expose("/resolve/<pk>", methods=["POST"])
    @has_access
    def resolve(self, pk):
        pending_id, target_id = parse_id(pk), parse_id(request.form.get("target_id"))
        if pending_id is None:
            abort(404)
        if target_id is None:
            flash("请选择并入的基层工会", "danger")
            return redirect(url_for(".list"))
        try:
            moved = svc.resolve_pending_org(db.session, pending_id, target_id, actor=current_user())
        except DomainError as err:
            db.session.rollback()
            if err.code == "not_found":
                abort(404)
            flash(err.message, "danger")
            return redirect(url_for(".list"))
        flash(f"已并入，{moved} 份申报已转至该工会", "success")
        return redirect(url_for(".list"))
