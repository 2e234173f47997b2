"""个人信息变更 in the back office: the 初核 and 复核 queues (oldest first, with each item's age);
the show page lists before / after per field, the evidence and the trail, and takes the steps."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual

from app.extensions import db
from app.masking import mask_id_number, mask_phone
from app.security import current_user
from app.services.attachments import attachments_of
from app.services.errors import DomainError
from app.services.mutual_aid import info_changes as svc
from app.services.review_flow import actions_from, trail_of
from models.members import Gender, IdType
from models.mutual_aid import InfoChangeRequest, InfoChangeStatus
from models.mutual_aid.info_changes import EVIDENCE, FIELDS, INFO_CHANGE_FLOW

from ..attachments import AttachmentsMixin
from ..base import ScopedInterface, ScopedModelView

SHOWN = {"id_type": IdType.label_of, "gender": Gender.label_of, "id_number": mask_id_number, "phone": mask_phone}


def shown(field, value) -> str:
    if value in (None, ""):
        return ""
    return SHOWN.get(field, str)(value)


class InfoChangeView(AttachmentsMixin, ScopedModelView):
    """个人信息变更 (all states) of the office subtree."""

    datamodel = ScopedInterface(InfoChangeRequest)
    base_permissions = ["can_list", "can_show"]
    exclude_route_methods = {"add", "edit", "delete", "download"}
    list_title = show_title = "个人信息变更"
    list_columns = ["number", "applicant_name", "changed_label", "org", "status_label", "created_at", "age_label"]
    show_columns = ["number", "applicant_name", "org", "status_label", "reason", "reject_reason", "created_at"]
    search_columns = ["number", "status", "created_at"]
    label_columns = {"number": "申请单号", "applicant_name": "申请人", "changed_label": "变更项", "org": "所属办事处",
                     "status": "状态", "status_label": "状态", "created_at": "创建时间", "age_label": "已等待",
                     "reason": "变更说明", "reject_reason": "驳回理由"}
    enum_columns = {"status": InfoChangeStatus}
    base_order = ("status_at", "asc")
    show_template = "union/mutual_aid/info_change_show.html"
    step_actions: tuple[str, ...] = ()

    def show_context(self, item):
        may = self.appbuilder.sm.has_access("can_review", self.class_permission_name)
        allowed = [a for a in actions_from(INFO_CHANGE_FLOW, item.status) if a in self.step_actions and may]
        rows = [(label, shown(k, item.before.get(k)), shown(k, item.after.get(k)), k in item.changed_fields)
                for k, label in FIELDS.items()]
        return {"trail": trail_of(db.session, InfoChangeRequest, item.id), "status_label": InfoChangeStatus.label_of,
                "steps": allowed, "step_labels": {a: t.label for (_s, a), t in INFO_CHANGE_FLOW.items()},
                "needs_reason": {a for (_s, a), t in INFO_CHANGE_FLOW.items() if t.needs_reason},
                "change_rows": rows, "evidence": attachments_of(db.session, item, EVIDENCE)}

    @expose("/step/<int:pk>", methods=["POST"])
    @has_access
    def step(self, pk):
        item = self.scoped_item(pk)
        action = request.form.get("action", "")
        if action not in self.step_actions:
            abort(404)
        label = {a: t.label for (_s, a), t in INFO_CHANGE_FLOW.items()}[action]
        try:
            svc.review_change(db.session, item.id, action, actor=current_user(), reason=request.form.get("reason"))
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
            return redirect(url_for(".show", pk=pk))
        flash(f"「{label}」已完成：{item.number}", "success")
        return redirect(url_for(".list"))


class InfoChangeFirstReviewView(InfoChangeView):
    """变更初核: 待初核."""

    base_permissions = ["can_list", "can_show", "can_review"]
    method_permission_name = {"step": "review"}
    base_filters = [["status", FilterEqual, InfoChangeStatus.PENDING_FIRST.value]]
    list_title = show_title = "变更初核"
    step_actions = ("approve_first", "reject")


class InfoChangeSecondReviewView(InfoChangeView):
    """变更复核: 待复核; 复核通过 applies the change."""

    base_permissions = ["can_list", "can_show", "can_review"]
    method_permission_name = {"step": "review"}
    base_filters = [["status", FilterEqual, InfoChangeStatus.PENDING_SECOND.value]]
    list_title = show_title = "变更复核"
    step_actions = ("approve_second", "reject_second")
