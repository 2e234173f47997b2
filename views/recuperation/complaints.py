"""投诉 in the back office: the handler org's staff (city / county federation) and the base's own
manager see the complaints in their scope, take them (处理中) and answer them (已办结)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose

from app.extensions import db
from app.security import current_user
from app.services import attachments
from app.services.errors import DomainError
from app.services.recuperation import complaints as svc
from app.services.review_flow import trail_of
from models.recuperation import COMPLAINT_FLOW, Complaint, ComplaintStatus

from ..attachments import AttachmentsMixin
from ..base import ReviewFlowMixin, ScopedInterface, ScopedModelView

TAKE_FLOW = {k: v for k, v in COMPLAINT_FLOW.items() if k[1] == "take"}


class ComplaintView(AttachmentsMixin, ReviewFlowMixin, ScopedModelView):
    """疗休养投诉: rows of the handler org's subtree, or of the manager's own base (another's → 404)."""

    datamodel = ScopedInterface(Complaint)
    base_column = "base_id"
    review_flow = TAKE_FLOW
    base_permissions = ["can_list", "can_show", "can_handle"]
    method_permission_name = {"reply": "handle"}
    include_route_methods = {"list", "show", "reply", "flow_form", "action", "action_post", "attachment"}
    list_title = show_title = "疗休养投诉"
    list_columns = ["created_at", "member", "base", "content_brief", "org", "status", "replied_at"]
    show_columns = ["created_at", "member", "base", "org", "content", "status", "reply", "replied_at"]
    search_columns = ["status", "created_at"]
    label_columns = {"created_at": "投诉时间", "member": "投诉人", "base": "被投诉基地", "org": "处理单位",
                     "content": "投诉内容", "content_brief": "投诉内容", "status": "状态", "reply": "答复", "replied_at": "答复时间"}
    enum_columns = {"status": ComplaintStatus}
    order_columns = ["created_at", "status"]
    base_order = ("id", "desc")
    show_template = "union/recuperation/complaint_show.html"

    def apply_review(self, item_id, action, reason):
        svc.take_complaint(db.session, item_id, actor=current_user())

    def show_context(self, item):
        can_handle = self.appbuilder.sm.has_access("can_handle", self.class_permission_name)
        return {"trail": trail_of(db.session, Complaint, item.id), "status_label": ComplaintStatus.label_of,
                "files": attachments.attachments_of(db.session, item, svc.FILE_KIND),
                "can_take": can_handle and item.status == ComplaintStatus.PENDING,
                "can_reply": can_handle and item.status == ComplaintStatus.HANDLING}

    @expose("/reply/<pk>", methods=["POST"])
    def reply(self, pk):
        refused = self._require_permission("can_handle")
        if refused:
            return refused
        item = self.scoped_item(pk)
        try:
            svc.reply_complaint(db.session, item.id, actor=current_user(), reply=request.form.get("reply", ""))
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        else:
            flash("投诉已答复办结，已通知投诉人", "success")
        return redirect(url_for(".show", pk=item.id))
