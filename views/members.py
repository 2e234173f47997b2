"""会员 views: the registry (masked), certification review, transfer, audited reveal."""
from __future__ import annotations

from flask import flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from wtforms import SelectField
from wtforms.validators import DataRequired, Optional

from app.extensions import db
from app.masking import mask_id_number, mask_phone
from app.routing import parse_id
from app.security import current_user, org_scope_clause
from app.services import members as svc
from app.services.errors import DomainError, MemberInvalidError
from app.services.exports import ExportField
from app.services.review_flow import actions_from, trail_of
from app.validators import parse_resident_id, validate_chinese_name, validate_mobile
from models.members import (
    CERT_FLOW,
    CertStatus,
    Gender,
    IdType,
    Member,
    MembershipStatus,
    MemberTransfer,
)
from models.organizations import Org, OrgLevel, Unit

from .base import ReviewFlowMixin, ScopedInterface, ScopedModelView, display_value
from .form_validators import Pure, SameOrgAs, UniqueValue, is_resident
from .imports import may_import
from .lookup import Lookup, LookupRelationField, scoped_lookup

MEMBER_LABELS = {
    "member_no": _l("Member number"), "name": _l("Name"), "phone": _l("Mobile"), "phone_masked": _l("Mobile"),
    "id_type": _l("ID type"), "id_type_label": _l("ID type"), "id_number": _l("ID number"),
    "id_number_masked": _l("ID number"), "gender": _l("Gender"), "gender_label": _l("Gender"),
    "birth_date": _l("Birth date"), "migrant_worker": _l("Migrant worker"), "position": _l("Position"),
    "join_date": _l("Join date"), "unit": _l("Unit"), "org": _l("Base union"), "status": _l("Membership status"),
    "status_label": _l("Membership status"), "cert_status": _l("Certification"),
    "cert_status_label": _l("Certification"), "remark": _l("Remark"), "created_at": _l("Created at"),
    "citizen_card_no": _l("Citizen card number"), "has_citizen_card": _l("Holds a citizen card"),
    "citizen_card_label": _l("Citizen card"),
}


def _union_lookup() -> Lookup:
    """Base unions in the user's scope (the add form's 所属基层工会)."""
    return scoped_lookup(Org, "id", (Org.level == OrgLevel.BASE,))


def _only_union():
    """The add form's default union: the user's only base union (a base admin), else none."""
    rows = db.session.scalars(select(Org).where(*_union_lookup()._conditions()).limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def _unit_lookup() -> Lookup:
    """Units in scope; asked with ``org`` (the union chosen in the add form) or ``member`` (the
    member being edited), only that union's units — an empty choice offers none."""
    conditions = [org_scope_clause(Unit.org_id, current_user())]
    if "member" in request.args:
        pk = parse_id(request.args["member"])
        conditions.append(Unit.org_id == (db.session.scalar(select(Member.org_id).where(Member.id == pk))
                                          if pk is not None else None))
    elif "org" in request.args:
        conditions.append(Unit.org_id == parse_id(request.args["org"]))
    return Lookup(Unit, where=conditions)


def _edit_units_endpoint() -> str:
    pk = (request.view_args or {}).get("pk")
    return url_for("MemberView.units", member=pk) if pk else url_for("MemberView.units")


def _union_field():
    return LookupRelationField(_l("Base union"), [DataRequired("请选择所属基层工会")],
                               endpoint="/memberview/lookup/org", lookup=_union_lookup,
                               placeholder="输入工会名称搜索", default=_only_union)


def _unit_field(endpoint, depends_on=None):
    return LookupRelationField(_l("Unit"), [SameOrgAs(Member)], endpoint=endpoint, lookup=_unit_lookup,
                               placeholder="先选择所属基层工会，再输入单位名称搜索" if depends_on else "输入单位名称搜索",
                               depends_on=depends_on)


def _id_number_validators():
    return [DataRequired("请填写证件号码"), Pure(parse_resident_id, when=is_resident),
            UniqueValue(Member.id_number, "该证件号码已登记为会员（一人一会籍），不能重复添加")]


class MemberView(ReviewFlowMixin, ScopedModelView):
    """会员: list masked; gender and birth date derived from a resident ID."""

    datamodel = ScopedInterface(Member)
    list_title = show_title = add_title = edit_title = _l("Members")
    list_columns = ["member_no", "name", "gender_label", "id_number_masked", "phone_masked", "unit", "org",
                    "status_label", "cert_status_label"]
    search_columns = ["name", "member_no", "id_number", "unit", "org", "status", "cert_status", "migrant_worker"]
    add_columns = ["name", "id_type", "id_number", "gender", "birth_date", "phone", "migrant_worker", "position",
                   "join_date", "org", "unit", "status", "citizen_card_no", "has_citizen_card", "remark"]
    edit_columns = ["name", "gender", "birth_date", "phone", "migrant_worker", "position", "join_date", "unit",
                    "status", "citizen_card_no", "has_citizen_card", "remark"]
    show_columns = ["member_no", "name", "id_type_label", "id_number_masked", "gender_label", "birth_date",
                    "phone_masked", "migrant_worker", "position", "join_date", "org", "unit", "status_label",
                    "cert_status_label", "citizen_card_label", "remark"]
    label_columns = MEMBER_LABELS
    formatters_columns = {"unit": display_value, "org": display_value}  # no unit: blank, not "None"
    description_columns = {"id_number": _l("Gender and birth date are filled from a resident ID number")}
    base_order = ("id", "desc")
    show_template = "union/member_show.html"
    add_template = "union/lookup_form_add.html"
    edit_template = "union/lookup_form_edit.html"
    extra_args = {"form_scripts": ["js/member_form.js"]}  # gender and birth date from the typed ID
    lookup_columns = {"unit": (Unit, "org_id", ()), "org": (Org, "id", (Org.level == OrgLevel.BASE,))}
    _choices = {
        "id_type": SelectField(_l("ID type"), choices=IdType.choices(), default=IdType.RESIDENT),
        "gender": SelectField(_l("Gender"), choices=[("", "—")] + Gender.choices(), validators=[Optional()]),
        "status": SelectField(_l("Membership status"), choices=MembershipStatus.choices(),
                              default=MembershipStatus.ACTIVE),
    }
    # union and unit are searched as one types; the unit list is the chosen union's (never ``__None``)
    # 会籍状态 / 实名认证 filters are picked by their Chinese label, never typed as raw values
    search_form_extra_fields = {
        "status": SelectField(_l("Membership status"), choices=MembershipStatus.choices()),
        "cert_status": SelectField(_l("Certification"), choices=CertStatus.choices()),
    }
    add_form_extra_fields = {**_choices, "org": _union_field(),
                             "unit": _unit_field(lambda: url_for("MemberView.units"), depends_on="org")}
    edit_form_extra_fields = {**{k: f for k, f in _choices.items() if k != "id_type"},
                              "unit": _unit_field(_edit_units_endpoint)}
    validators_columns = {
        "name": [DataRequired("请填写姓名"), Pure(validate_chinese_name, when=is_resident)],
        "id_number": _id_number_validators(),
        "phone": [Pure(validate_mobile, optional=True)],
    }
    review_flow = CERT_FLOW
    method_permission_name = {"reveal": "unmask", "transfer": "transfer", "units": "list"}
    export_fields = (
        ExportField("会员编号", Member.member_no), ExportField("姓名", Member.name),
        ExportField("性别", Member.gender, Gender.label_of), ExportField("证件类型", Member.id_type, IdType.label_of),
        ExportField("证件号码", Member.id_number, mask_id_number), ExportField("手机号", Member.phone, mask_phone),
        ExportField("出生日期", Member.birth_date), ExportField("所在单位", Unit.name),
        ExportField("所属工会", Org.name), ExportField("会籍状态", Member.status, MembershipStatus.label_of),
        ExportField("实名认证", Member.cert_status, CertStatus.label_of),
    )
    export_joins = ((Unit, Member.unit_id == Unit.id), (Org, Member.org_id == Org.id))

    # --- form hooks -------------------------------------------------------------

    def list_buttons(self):
        """导入 beside 导出 Excel in the header bar, for roles that may import members."""
        buttons = super().list_buttons()
        if may_import("members"):
            buttons.insert(0, {"id": "import-link", "href": url_for("DataJobView.upload", kind="members"),
                               "label": _l("Import"), "icon": "fa-upload", "style": "default"})
        return buttons
    def prefill_form(self, form, pk):
        super().prefill_form(form, pk)
        # The edit form must not show the raw phone to a role that may not unmask it.
        if not self.appbuilder.sm.has_access("can_unmask", self.class_permission_name):
            form.phone.data = ""
            form.phone.description = "留空则不修改（当前：%s）" % self.scoped_item(pk).phone_masked

    def pre_update(self, item):
        if not item.phone:
            # a blank phone on the edit form means "unchanged" (see prefill_form)
            hist = inspect(item).attrs.phone.history
            if hist.deleted:
                item.phone = hist.deleted[0]
        super().pre_update(item)

    # --- a saved member is shown (a refused save stays on its form: ScopedModelView) ----------
    def post_edit_redirect(self):
        if g.pop("cards_cancelled", 0):
            flash("会籍已结束，该会员的会员服务卡已自动注销", "info")
        return redirect(url_for(".show", pk=request.view_args["pk"]))

    def post_add_redirect(self):
        added = g.pop("member_added", None)
        return redirect(url_for(".show", pk=added) if added else self.get_redirect())

    @expose("/units")
    @has_access
    def units(self):
        """The unit choices of the add/edit form: ``[{id, text}]`` of the chosen union (``org``)
        or of the edited member's union (``member``), in scope, matching ``q``."""
        return jsonify(_unit_lookup().search(request.args))

    def prepare(self, item, is_created):
        # read before any query autoflushes the populated row (which clears the history)
        history = None if is_created else inspect(item).attrs.status.history
        if item.org is not None:
            item.org_id = item.org.id
        if item.unit is not None:
            item.unit_id = item.unit.id
        try:
            svc.validate_member(db.session, item)
        except MemberInvalidError as err:
            raise DomainError(err.message) from None
        if history is not None and history.deleted and history.added:
            # 离会 / 转出 cancel the service card in the edit's own transaction (FAB commits it)
            g.cards_cancelled = svc.membership_changed(
                db.session, {item.id: (history.deleted[0], history.added[0])}, actor=current_user())

    def check_delete(self, item):
        svc.check_member_deletable(db.session, item)

    def post_add(self, item):
        svc.assign_member_no(db.session, item)
        db.session.commit()
        g.member_added = item.id

    # --- review flow (certification) ------------------------------------------------
    def apply_review(self, item_id, action_name, reason):
        svc.review_certification(db.session, item_id, action_name, actor=current_user(), reason=reason)

    def show_context(self, item):
        sm = self.appbuilder.sm
        transfers = db.session.scalars(select(MemberTransfer).where(MemberTransfer.member_id == item.id)
                                       .order_by(MemberTransfer.id)).all()
        return {
            "trail": trail_of(db.session, Member, item.id),
            "status_label": CertStatus.label_of,
            "transfers": transfers,
            "can_unmask": sm.has_access("can_unmask", self.class_permission_name),
            "can_edit": sm.has_access("can_edit", self.class_permission_name),
            "can_delete": sm.has_access("can_delete", self.class_permission_name),
            "can_transfer": sm.has_access("can_transfer", self.class_permission_name),
            "flow_actions": [a for a in actions_from(CERT_FLOW, item.cert_status)
                             if sm.has_access(f"can_{CERT_FLOW[(item.cert_status, a)].permission}",
                                              self.class_permission_name)],
            "flow_labels": {a: t.label for (s, a), t in CERT_FLOW.items()},
            "revealed": {},
            "target_unions": self._target_unions(item) if sm.has_access("can_transfer", self.class_permission_name) else [],
        }

    def _target_unions(self, item):
        return db.session.scalars(select(Org).where(org_scope_clause(Org.id, current_user()),
                                                    Org.level == OrgLevel.BASE, Org.id != item.org_id)
                                  .order_by(Org.path)).all()

    # --- audited reveal --------------------------------------------------------------
    @expose("/reveal/<pk>", methods=["POST"])
    @has_access
    def reveal(self, pk):
        item = self.scoped_item(pk)
        field = request.form.get("field", "")
        try:
            value = svc.reveal_member_field(db.session, item.id, field, actor=current_user(),
                                            reason=request.form.get("reason", ""))
        except DomainError as err:
            flash(err.message, "danger")
            return redirect(url_for(".show", pk=item.id))
        context = self.show_context(item)
        context["revealed"] = {field: value}
        return self.render_template(self.show_template, pk=item.id, title=self.show_title,
                                    widgets=self._show(item.id), related_views=self._related_views,
                                    item=item, **context)

    # --- transfer (转会) -----------------------------------------------------------------
    @expose("/transfer/<pk>", methods=["POST"])
    @has_access
    def transfer(self, pk):
        item = self.scoped_item(pk)
        try:
            to_org = int(request.form.get("to_org_id") or 0)
            to_unit = int(request.form["to_unit_id"]) if request.form.get("to_unit_id") else None
            move = svc.transfer_member(db.session, item.id, to_org, actor=current_user(),
                                       reason=request.form.get("reason", ""), to_unit_id=to_unit)
            flash(f"已将 {item.name} 转入 {move.to_org.name}", "success")
        except DomainError as err:
            flash(err.message, "danger")
        except ValueError:
            flash("请选择目标工会", "danger")
        return redirect(url_for(".show", pk=item.id))
