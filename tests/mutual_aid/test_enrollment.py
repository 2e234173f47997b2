"""参保录入 and 初审: plans and shares, the person-list import with parameters (R-2), counts (R-3),
editing only while editable (R-4), C2, submission, review with SMS, return and resubmission."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.services.errors import DomainError, NotFoundError, SelfApprovalError
from app.services.mutual_aid import enrollment as svc
from app.services.mutual_aid.enrollment import line_amount
from models.imports import JobError
from models.mutual_aid import EnrollmentStatus, InsuredPerson
from models.outbox import SmsMessage
from tests.factories import approved_member_unit, county, import_persons, make_plan, new_id_number, person_row
from tests.mutual_aid.conftest import persons


def test_c2_payable_of_the_requirements_example():
    # 2 × (80 × 30.00 + 20 × 50.00) = 2 × (2,400.00 + 1,000.00) = 6,800.00
    assert line_amount(2, 80, 20, Decimal("30.00"), Decimal("50.00")) == Decimal("6800.00")
    assert line_amount(1, 3, 0, Decimal("33.33"), None) == Decimal("99.99")


def test_the_imported_example_enrollment_is_payable_6800(ctx, draft):
    figure = svc.line_figures(ctx, draft)[0]
    assert (figure.normal, figure.high, figure.amount) == (80, 20, Decimal("6800.00"))
    assert svc.payable_of(ctx, draft) == Decimal("6800.00")
    assert draft.number.startswith("CB") and draft.status_label == "录入中"


def test_shares_must_lie_between_one_and_the_plans_maximum(ctx, plan, unit_and_handler):
    handler = unit_and_handler[1]
    for shares in (0, 4):
        with pytest.raises(DomainError, match="参保份数须在1至3份之间"):
            svc.create_enrollment(ctx, actor=handler, plan_shares={plan.id: shares})
    with pytest.raises(DomainError, match="请至少选择一个保障活动"):
        svc.create_enrollment(ctx, actor=handler, plan_shares={})


def test_a_plan_of_another_office_is_not_offered(ctx, unit_and_handler):
    other = make_plan(ctx, county(ctx, 1))
    with pytest.raises(DomainError, match="不存在或当前不可参保"):
        svc.create_enrollment(ctx, actor=unit_and_handler[1], plan_shares={other.id: 1})


def test_an_account_without_a_unit_cannot_enroll(ctx, plan, office_staff):
    with pytest.raises(DomainError, match="未绑定会员单位"):
        svc.create_enrollment(ctx, actor=office_staff, plan_shares={plan.id: 1})


def test_rejected_rows_come_back_with_chinese_reasons_and_valid_rows_are_kept(ctx, plan, unit_and_handler, tmp_path):
    handler = unit_and_handler[1]
    enrollment = svc.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 1})
    twice = new_id_number()
    rows = [person_row(group="普通", id_number=twice), person_row(group="普通", id_number=twice),
            person_row(group="", name="无类别"), person_row(group="普通", id_number="110101199003070021"),
            person_row(group="普通", mobile="12345"), person_row(group="特殊")]
    job = import_persons(ctx, enrollment, enrollment.plans[0], rows, handler, tmp_path)
    assert (job.ok_rows, job.error_rows, job.status_label) == (1, 5, "部分成功")
    reasons = [e.reasons for e in ctx.scalars(select(JobError).where(JobError.job_id == job.id).order_by(JobError.row_no))]
    assert reasons[0] == {"id_number": "与本文件第2行的证件号码重复"}
    assert reasons[1] == {"risk_group": "请填写人群类别（普通 / 高危）"}
    assert reasons[2] == {"id_number": "身份证号校验位不正确，请核对号码"}
    assert reasons[3] == {"mobile": "手机号应为11位数字"}
    assert "不是可选值" in reasons[4]["risk_group"]
    assert job.result_name  # 导入失败人员下载


def test_reimporting_the_same_list_updates_instead_of_duplicating(ctx, plan, unit_and_handler, tmp_path):
    handler = unit_and_handler[1]
    enrollment = svc.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 1})
    rows = persons(3)
    import_persons(ctx, enrollment, enrollment.plans[0], rows, handler, tmp_path)
    rows[0][5] = "高危"
    job = import_persons(ctx, enrollment, enrollment.plans[0], rows, handler, tmp_path)
    assert (job.created_rows, job.updated_rows) == (0, 3)
    groups = ctx.scalars(select(InsuredPerson.risk_group).where(InsuredPerson.enrollment_id == enrollment.id)
                         .order_by(InsuredPerson.id)).all()
    assert groups == ["high", "normal", "normal"]


def test_a_plan_without_high_risk_price_refuses_high_risk_persons(ctx, office, unit_and_handler, tmp_path):
    plain = make_plan(ctx, office, price="20.00")
    handler = unit_and_handler[1]
    enrollment = svc.create_enrollment(ctx, actor=handler, plan_shares={plain.id: 1})
    job = import_persons(ctx, enrollment, enrollment.plans[0], [person_row(group="高危"), person_row()], handler,
                         tmp_path)
    assert (job.ok_rows, job.error_rows) == (1, 1)
    reason = ctx.scalar(select(JobError.reasons).where(JobError.job_id == job.id))
    assert reason == {"risk_group": f"「{plain.name}」没有高危会费单价，人群类别只能为普通"}


def test_a_female_plan_accepts_only_female_ids(ctx, office, unit_and_handler, tmp_path):
    female = make_plan(ctx, office, name="女职工安康互助", kind="female", eligible_gender="female")
    handler = unit_and_handler[1]
    enrollment = svc.create_enrollment(ctx, actor=handler, plan_shares={female.id: 1})
    rows = [person_row(id_number=new_id_number(male=True)), person_row(id_number=new_id_number(male=False))]
    job = import_persons(ctx, enrollment, enrollment.plans[0], rows, handler, tmp_path)
    assert (job.ok_rows, job.error_rows) == (1, 1)
    assert ctx.scalar(select(JobError.reasons).where(JobError.job_id == job.id)) == {
        "gender": "「女职工安康互助」仅限女职工参保"}


def test_a_person_covered_by_another_units_effective_enrollment_is_refused(ctx, effective, plan, office,
                                                                           office_staff, tmp_path):
    covered = ctx.scalar(select(InsuredPerson).where(InsuredPerson.enrollment_id == effective.id).limit(1))
    other_unit, other_handler = approved_member_unit(ctx, office, office_staff)
    enrollment = svc.create_enrollment(ctx, actor=other_handler, plan_shares={plan.id: 1})
    job = import_persons(ctx, enrollment, enrollment.plans[0], [person_row(group="普通", id_number=covered.id_number)],
                         other_handler, tmp_path)
    assert ctx.scalar(select(JobError.reasons).where(JobError.job_id == job.id)) == {
        "id_number": f"该人员已在「{effective.member_unit.name}」参保，保障期至 {covered.coverage_end:%Y-%m-%d}"}


def test_another_units_enrollment_is_not_found(ctx, draft, office, office_staff, tmp_path):
    _unit, stranger = approved_member_unit(ctx, office, office_staff)
    with pytest.raises(NotFoundError):
        svc.scoped_enrollment(ctx, draft.id, stranger)
    with pytest.raises(NotFoundError):
        import_persons(ctx, draft, draft.plans[0], persons(1), stranger, tmp_path)
    with pytest.raises(NotFoundError):
        svc.delete_persons(ctx, draft.id, [1], actor=stranger)


def test_submission_lists_everything_missing(ctx, plan, unit_and_handler):
    handler = unit_and_handler[1]
    enrollment = svc.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 1})
    with pytest.raises(DomainError) as err:
        svc.submit_enrollment(ctx, enrollment.id, actor=handler)
    assert "请填写在职职工人数和在职女职工人数" in err.value.message and "尚未导入参保人员" in err.value.message


def test_a_plan_asking_for_attachments_stops_submission_until_one_is_uploaded(ctx, draft, plan, unit_and_handler):
    from tests.shared.test_attachments import pdf_bytes

    handler = unit_and_handler[1]
    plan.attachment_required, plan.attachment_note = True, "加盖公章的职工花名册"
    ctx.commit()
    with pytest.raises(DomainError) as err:
        svc.submit_enrollment(ctx, draft.id, actor=handler)
    assert err.value.message == f"「{plan.name}」需上传参保附件（加盖公章的职工花名册）"
    assert draft.status_label == "录入中"
    svc.add_file(ctx, draft.id, actor=handler, file_name="花名册.pdf", data=pdf_bytes())
    svc.submit_enrollment(ctx, draft.id, actor=handler)
    assert draft.status_label == "待初审"


def test_persons_above_the_staff_count_are_refused(ctx, draft, unit_and_handler):
    handler = unit_and_handler[1]
    svc.set_details(ctx, draft.id, actor=handler, staff_count=90, female_staff_count=10, note="")
    with pytest.raises(DomainError, match="参保人数 100 超过在职职工人数 90"):
        svc.submit_enrollment(ctx, draft.id, actor=handler)
    with pytest.raises(DomainError, match="女职工人数不能超过"):
        svc.set_details(ctx, draft.id, actor=handler, staff_count=10, female_staff_count=11, note="")


def test_submit_locks_the_enrollment_and_fixes_the_payable(ctx, draft, unit_and_handler, tmp_path):
    handler = unit_and_handler[1]
    svc.submit_enrollment(ctx, draft.id, actor=handler)
    assert draft.status_label == "待初审" and draft.payable == Decimal("6800.00")
    with pytest.raises(DomainError, match="不能修改"):
        svc.set_details(ctx, draft.id, actor=handler, staff_count=200, female_staff_count=1, note="")
    with pytest.raises(DomainError, match="不能导入人员"):
        import_persons(ctx, draft, draft.plans[0], persons(1), handler, tmp_path)
    with pytest.raises(DomainError, match="不能修改"):
        svc.delete_persons(ctx, draft.id, [1], actor=handler)


def test_the_office_passes_and_the_contact_gets_an_sms(ctx, draft, unit_and_handler, office_staff):
    svc.submit_enrollment(ctx, draft.id, actor=unit_and_handler[1])
    svc.review_enrollment(ctx, draft.id, "approve", actor=office_staff)
    assert draft.status == EnrollmentStatus.INVOICING
    sms = ctx.scalars(select(SmsMessage).where(SmsMessage.related_type == "enrollment",
                                               SmsMessage.related_id == draft.id)).one()
    assert draft.number in sms.text and "已通过初审" in sms.text


def test_a_return_shows_its_reason_and_the_unit_resubmits(ctx, draft, unit_and_handler, office_staff):
    handler = unit_and_handler[1]
    svc.submit_enrollment(ctx, draft.id, actor=handler)
    svc.review_enrollment(ctx, draft.id, "return", actor=office_staff, reason="附件缺少职工花名册")
    assert draft.status_label == "初审退回" and draft.return_reason == "附件缺少职工花名册"
    assert "附件缺少职工花名册" in ctx.scalars(select(SmsMessage.text).where(
        SmsMessage.related_id == draft.id, SmsMessage.related_type == "enrollment")).one()
    svc.set_details(ctx, draft.id, actor=handler, staff_count=150, female_staff_count=60, note="已补花名册")
    svc.submit_enrollment(ctx, draft.id, actor=handler)
    assert draft.status_label == "待初审"


def test_the_submitter_cannot_pass_his_own_enrollment(ctx, draft, unit_and_handler):
    handler = unit_and_handler[1]
    svc.submit_enrollment(ctx, draft.id, actor=handler)
    with pytest.raises(SelfApprovalError, match="不能审核自己提交的申请"):
        svc.review_enrollment(ctx, draft.id, "approve", actor=handler)
    ctx.rollback()


def test_persons_are_deleted_only_while_editable_and_the_enrollment_too(ctx, draft, unit_and_handler):
    handler = unit_and_handler[1]
    ids = ctx.scalars(select(InsuredPerson.id).where(InsuredPerson.enrollment_id == draft.id).limit(5)).all()
    assert svc.delete_persons(ctx, draft.id, ids, actor=handler) == 5
    svc.delete_enrollment(ctx, draft.id, actor=handler)
    assert ctx.scalar(select(func.count()).select_from(InsuredPerson).where(InsuredPerson.enrollment_id == draft.id)) == 0
