"""补助申请 in the back office: the 初核, 复核 and 打款 queues (oldest first, with each item's age) and
one show page whose forms take the steps the row's state and the user's grants allow."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual

from app.extensions import db
from app.services.attachments import attachments_of
from app.services.mutual_aid import subsidies as svc
from app.services.review_flow import trail_of
from models.mutual_aid import SubsidyApplication, SubsidyStatus
from models.mutual_aid.subsidies import ID_BACK, ID_FRONT, RECEIPT, RELATION_PROOF, AccountType

from ..attachments import AttachmentsMixin
from ..base import ScopedInterface, ScopedModelView, StepFlowMixin

LABELS = {"number": "申请单号", "person_name": "补助人", "org": "所属办事处", "status": "状态", "status_label": "状态",
          "amount_label": "补助金额（元）", "submitted_at": "提交时间", "age_label": "已等待", "created_at": "创建时间",
          "admission_date": "入院日期", "discharge_date": "出院日期", "hospital": "就诊医院", "payee_name": "收款人",
          "payee_relation": "与参保人关系", "payee_bank": "开户银行", "payee_account_masked": "收款账号",
          "total_cost": "住院总费用（元）", "fund_paid": "统筹支付（元）", "critical_paid": "大病保险支付（元）",
          "other_paid": "其他报销（元）", "self_paid_full": "全自费（元）", "base": "补助基数（元）", "reject_reason": "驳回理由",
          "pay_fail_reason": "打款失败原因", "paid_at": "打款时间", "plan": "保障活动"}
FILES = [(ID_FRONT, "身份证正面"), (ID_BACK, "身份证反面"), (RECEIPT, "住院费用单据"), (RELATION_PROOF, "关系证明")]


class SubsidyApplicationView(StepFlowMixin, AttachmentsMixin, ScopedModelView):
    """补助申请 (all states) of the office subtree; each queue below is this list on one state."""

    datamodel = ScopedInterface(SubsidyApplication)
    base_permissions = ["can_list", "can_show"]
    exclude_route_methods = {"add", "edit", "delete", "download"}  # applications come from the worker client
    list_title = show_title = "补助申请"
    list_columns = ["number", "person_name", "org", "status_label", "amount_label", "submitted_at", "age_label"]
    show_columns = ["number", "person_name", "plan", "org", "status_label", "admission_date", "discharge_date",
                    "hospital", "payee_name", "payee_relation", "payee_bank", "payee_account_masked", "total_cost",
                    "fund_paid", "critical_paid", "other_paid", "self_paid_full", "base", "amount_label",
                    "reject_reason", "pay_fail_reason", "submitted_at", "paid_at", "created_at"]
    search_columns = ["number", "status", "submitted_at"]
    label_columns = LABELS
    enum_columns = {"status": SubsidyStatus}
    base_order = ("status_at", "asc")  # oldest first: the age the office watches
    show_template = "union/mutual_aid/subsidy_show.html"

    def step_flow(self) -> dict:
        return svc.subsidy_flow()

    def apply_step(self, item_id, action, form, actor):
        svc.review_application(db.session, item_id, action, actor=actor, reason=form.get("reason"),
                               total_cost=form.get("total_cost"), base=form.get("base"),
                               sheet={k: form.get(k) for k in svc.SHEET_FIELDS})

    def show_context(self, item):
        return {"trail": trail_of(db.session, SubsidyApplication, item.id), "status_label": SubsidyStatus.label_of,
                "steps": self.allowed_steps(item), "step_labels": self.step_labels(),
                "files": [(label, attachments_of(db.session, item, kind)) for kind, label in FILES],
                "account_type_label": AccountType.label_of(item.account_type) if item.account_type else "",
                "sheet_fields": svc.SHEET_FIELDS}


class SubsidyFirstReviewView(SubsidyApplicationView):
    """补助初核: 待初核 applications; 初核通过 (total and base → C1) or 驳回 (back to the worker)."""

    base_permissions = ["can_list", "can_show", "can_review"]
    method_permission_name = {"step": "review"}
    base_filters = [["status", FilterEqual, SubsidyStatus.PENDING_FIRST.value]]
    list_title = show_title = "补助初核"
    step_actions = ("approve_first", "reject")


class SubsidySecondReviewView(SubsidyApplicationView):
    """补助复核: 待复核; a reviewer other than the 初核 one approves or returns it to 初核."""

    base_permissions = ["can_list", "can_show", "can_review"]
    method_permission_name = {"step": "review"}
    base_filters = [["status", FilterEqual, SubsidyStatus.PENDING_SECOND.value]]
    list_title = show_title = "补助复核"
    step_actions = ("approve_second", "return")


class SubsidyPaymentView(SubsidyApplicationView):
    """补助打款 (finance): 审核通过 applications; 已打款 (办结) or 打款失败 (the worker corrects the account)."""

    base_permissions = ["can_list", "can_show", "can_pay"]
    method_permission_name = {"step": "pay"}
    base_filters = [["status", FilterEqual, SubsidyStatus.APPROVED.value]]
    list_title = show_title = "补助打款"
    list_columns = ["number", "person_name", "payee_name", "payee_bank", "payee_account_masked", "amount_label",
                    "org", "age_label"]
    step_actions = ("pay", "pay_fail")
    step_permission = "pay"
