"""个人信息变更 in the back office: the 初核 and 复核 queues (oldest first, with each item's age);
the show page lists before / after per field, the evidence and the trail, and takes the steps."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual

from app.extensions import db
from app.masking import mask_id_number, mask_phone
from app.services.attachments import attachments_of
from app.services.mutual_aid import info_changes as svc
from app.services.review_flow import trail_of
from models.members import Gender, IdType
from models.mutual_aid import InfoChangeRequest, InfoChangeStatus
from models.mutual_aid.info_changes import EVIDENCE, FIELDS, INFO_CHANGE_FLOW

from ..attachments import AttachmentsMixin
from ..base import ScopedInterface, ScopedModelView, StepFlowMixin

SHOWN = {"id_type": IdType.label_of, "gender": Gender.label_of, "id_number": mask_id_number, "phone": mask_phone}


def shown(field, value) -> str:
    if value in (None, ""):
        return ""
    return SHOWN.get(field, str)(value)


class InfoChangeView(StepFlowMixin, AttachmentsMixin, ScopedModelView):
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

    def step_flow(self) -> dict:
        return INFO_CHANGE_FLOW

    def apply_step(self, item_id, action, form, actor):
        svc.review_change(db.session, item_id, action, actor=actor, reason=form.get("reason"))

    def show_context(self, item):
        rows = [(label, shown(k, item.before.get(k)), shown(k, item.after.get(k)), k in item.changed_fields)
                for k, label in FIELDS.items()]
        return {"trail": trail_of(db.session, InfoChangeRequest, item.id), "status_label": InfoChangeStatus.label_of,
                "steps": self.allowed_steps(item), "step_labels": self.step_labels(),
                "needs_reason": {a for (_s, a), t in INFO_CHANGE_FLOW.items() if t.needs_reason},
                "change_rows": rows, "evidence": attachments_of(db.session, item, EVIDENCE)}


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
