"""个人信息变更 (S001:L93–143, R-11): the state machine as a (state, action) table — a test per edge
and per refusal —, the constraints, the change applied field by field with audit rows."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services.errors import DomainError, InvalidTransitionError, NotFoundError, SelfApprovalError
from app.services.mutual_aid import info_changes as svc
from models.audit import AuditLog
from models.messages import Message
from models.mutual_aid import InfoChangeStatus, InsuredPerson, WorkerBinding
from models.mutual_aid.info_changes import INFO_CHANGE_FLOW
from models.outbox import SmsMessage
from seed.generators import resident_id
from tests.factories import _rng, county, make_user
from tests.mutual_aid.worker_fixtures import (  # noqa: F401 (fixtures)
    covered,
    other_worker,
    png,
    reviewer,
    reviewer2,
    unique_phone,
    worker,
)

S = InfoChangeStatus
EVIDENCE = [("户口本.png", png())]


def new_phone_request(ctx, user, phone=None):
    return svc.create_change(ctx, user, {"phone": phone or unique_phone()}, evidence=EVIDENCE)


def at(ctx, user, status, reviewer, reviewer2):
    row = new_phone_request(ctx, user)
    if status == "pending_first":
        return row
    if status == "draft":
        return svc.review_change(ctx, row.id, "reject", actor=reviewer, reason="凭证不清晰")
    svc.review_change(ctx, row.id, "approve_first", actor=reviewer)
    if status == "pending_second":
        return row
    assert status == "done"
    return svc.review_change(ctx, row.id, "approve_second", actor=reviewer2)


EDGES = [("draft", "submit", "pending_first", "worker"),
         ("pending_first", "approve_first", "pending_second", "reviewer"),
         ("pending_first", "reject", "draft", "reviewer"),
         ("pending_second", "approve_second", "done", "reviewer2"),
         ("pending_second", "reject_second", "draft", "reviewer2")]
ACTIONS = sorted({a for (_s, a) in INFO_CHANGE_FLOW})


def test_the_edges_are_the_flow_table():
    assert {(f, a): t for f, a, t, _w in EDGES} == {(f, a): t.to for (f, a), t in INFO_CHANGE_FLOW.items()}


def _do(ctx, row, action, actor, user):
    if action == "submit":
        return svc.resubmit_change(ctx, user, row.number)
    return svc.review_change(ctx, row.id, action, actor=actor, reason="凭证不清晰")


@pytest.mark.parametrize("src, action, dst, who", EDGES, ids=[f"{e[0]}-{e[1]}" for e in EDGES])
def test_edge(ctx, worker, reviewer, reviewer2, src, action, dst, who):
    row = at(ctx, worker, src, reviewer, reviewer2)
    actor = {"worker": worker, "reviewer": reviewer, "reviewer2": reviewer2}[who]
    assert _do(ctx, row, action, actor, worker).status == dst


REFUSALS = [(s.value, a) for s in S for a in ACTIONS if (s, a) not in INFO_CHANGE_FLOW]


@pytest.mark.parametrize("src, action", REFUSALS, ids=[f"{s}-{a}" for s, a in REFUSALS])
def test_refusal(ctx, worker, reviewer, reviewer2, src, action):
    row = at(ctx, worker, src, reviewer, reviewer2)
    third = make_user(ctx, "业务审核员", county(ctx, 0))
    with pytest.raises(InvalidTransitionError, match=r"^当前状态为「.+」，不能执行「.+」$"):
        _do(ctx, row, action, third, worker)
    ctx.rollback()
    assert ctx.get(type(row), row.id).status == src


def test_number_is_bg_and_19_digits_with_before_and_after(ctx, worker, covered):
    row = new_phone_request(ctx, worker, "13912345678")
    assert row.number.startswith("BG") and len(row.number) == 21 and row.number[2:].isdigit()
    assert row.before["phone"] == covered[0].mobile and row.after["phone"] == "13912345678"
    assert row.changed_fields == ["phone"] and row.status == S.PENDING_FIRST


def test_name_and_id_number_never_change_together(ctx, worker):
    with pytest.raises(DomainError, match="^不允许同时修改姓名和证件号码$"):
        svc.create_change(ctx, worker, {"name": "陆明本", "id_number": resident_id(_rng)}, evidence=EVIDENCE)


def test_no_new_request_while_one_is_unfinished_a_rejected_draft_included(ctx, worker, reviewer, reviewer2):
    row = new_phone_request(ctx, worker)
    with pytest.raises(DomainError, match="^已存在未办结的变更记录，不允许重新申请$"):
        new_phone_request(ctx, worker)
    ctx.rollback()
    svc.review_change(ctx, row.id, "reject", actor=reviewer, reason="凭证不清晰")
    assert row.status == S.DRAFT
    with pytest.raises(DomainError, match="已存在未办结的变更记录"):
        new_phone_request(ctx, worker)
    ctx.rollback()
    svc.delete_change(ctx, worker, row.number)   # deleted: a new one may be filed
    assert new_phone_request(ctx, worker).status == S.PENDING_FIRST


def test_a_finished_request_allows_a_new_one(ctx, worker, reviewer, reviewer2):
    at(ctx, worker, "done", reviewer, reviewer2)
    assert new_phone_request(ctx, worker).status == S.PENDING_FIRST


def test_nothing_changed_is_refused(ctx, worker, covered):
    with pytest.raises(DomainError, match="未修改任何信息"):
        svc.create_change(ctx, worker, {"phone": covered[0].mobile}, evidence=EVIDENCE)


def test_evidence_is_required(ctx, worker):
    with pytest.raises(DomainError, match="请上传变更凭证"):
        svc.create_change(ctx, worker, {"phone": unique_phone()}, evidence=[])


def test_a_new_id_number_must_be_valid_and_nobody_elses(ctx, worker, covered):
    with pytest.raises(DomainError, match="身份证号校验位不正确"):
        bad = covered[0].id_number[:17] + ("0" if covered[0].id_number[17] != "0" else "1")
        svc.create_change(ctx, worker, {"id_number": bad}, evidence=EVIDENCE)
    with pytest.raises(DomainError, match="该证件号码已登记为其他职工"):
        svc.create_change(ctx, worker, {"id_number": covered[1].id_number}, evidence=EVIDENCE)


def test_a_resident_id_fixes_birth_date_and_gender(ctx, worker):
    with pytest.raises(DomainError, match="居民身份证的出生日期由证件号码确定"):
        svc.create_change(ctx, worker, {"birth_date": "1900-01-01"}, evidence=EVIDENCE)


def test_a_passport_may_carry_its_own_birth_date(ctx, worker):
    row = svc.create_change(ctx, worker, {"id_type": "护照", "id_number": "E12345678", "birth_date": "1900-01-01"},
                            evidence=EVIDENCE)
    assert row.after["id_type"] == "passport" and row.after["birth_date"] == "1900-01-01"


def test_done_applies_the_change_with_an_audit_row_per_field(ctx, worker, covered, reviewer, reviewer2):
    new_number = resident_id(_rng)
    row = svc.create_change(ctx, worker, {"id_number": new_number, "social_insurance_no": "123456464"},
                            evidence=EVIDENCE)
    svc.review_change(ctx, row.id, "approve_first", actor=reviewer)
    svc.review_change(ctx, row.id, "approve_second", actor=reviewer2)
    assert row.status == S.DONE and row.open_owner is None
    person = ctx.get(InsuredPerson, covered[0].id)
    assert person.id_number == new_number and person.social_insurance_no == "123456464"
    binding = ctx.scalar(select(WorkerBinding).where(WorkerBinding.user_id == worker.id))
    assert binding.id_number == new_number
    audits = ctx.scalars(select(AuditLog).where(AuditLog.summary.like(f"个人信息变更 {row.number}%"))).all()
    assert len(audits) == len(row.changed_fields) >= 2
    assert new_number not in " ".join(a.summary for a in audits)  # ID numbers masked in the log
    assert ctx.scalar(select(SmsMessage).where(SmsMessage.template_code == "info_change_done",
                                               SmsMessage.related_id == row.id))
    assert ctx.scalar(select(Message).where(Message.recipient_id == worker.id, Message.category == "info_change",
                                            Message.title == "个人信息变更已办结"))


def test_reject_sends_message_and_sms(ctx, worker, reviewer, reviewer2):
    row = at(ctx, worker, "draft", reviewer, reviewer2)
    assert row.reject_reason == "凭证不清晰"
    message = ctx.scalar(select(Message).where(Message.recipient_id == worker.id, Message.link_id == row.id))
    assert message.title == "您有1条变更信息申请单被驳回" and message.link_ref == row.number
    assert ctx.scalar(select(SmsMessage).where(SmsMessage.template_code == "info_change_rejected",
                                               SmsMessage.related_id == row.id))


def test_the_same_reviewer_cannot_do_both_reviews(ctx, worker, reviewer, reviewer2):
    row = at(ctx, worker, "pending_second", reviewer, reviewer2)
    with pytest.raises(SelfApprovalError, match="不能审核自己提交的申请"):
        svc.review_change(ctx, row.id, "approve_second", actor=reviewer)
    ctx.rollback()
    assert ctx.get(type(row), row.id).status == S.PENDING_SECOND


def test_only_a_draft_is_deleted(ctx, worker):
    row = new_phone_request(ctx, worker)
    with pytest.raises(DomainError, match="当前状态为「待初核」，不能删除"):
        svc.delete_change(ctx, worker, row.number)


def test_another_workers_request_is_not_found(ctx, worker, other_worker, reviewer):
    row = new_phone_request(ctx, worker)
    with pytest.raises(NotFoundError):
        svc.own_change(ctx, other_worker, row.number)
    stranger = make_user(ctx, "业务审核员", county(ctx, 1))
    with pytest.raises(NotFoundError):
        svc.review_change(ctx, row.id, "approve_first", actor=stranger)
