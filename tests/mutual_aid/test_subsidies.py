"""补助申请 (S001:L45–91): the state machine as a (state, action) table — a test per edge and per
refusal —, C1 T1–T3, the three steps' rules (R-9), the messages of each event, the refused side."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services.errors import DomainError, InvalidTransitionError, NotFoundError, SelfApprovalError
from app.services.mutual_aid import subsidies
from app.services.mutual_aid.plans import progressive_amount
from app.services.mutual_aid.subsidies import today as beijing_today
from models.messages import Message
from models.mutual_aid import SubsidyStatus
from models.mutual_aid.subsidies import SUBSIDY_FLOW
from models.outbox import SmsMessage
from tests.factories import county, make_user
from tests.mutual_aid.worker_fixtures import (  # noqa: F401 (fixtures)
    CARD,
    DEMO_TIERS,
    at_status,
    covered,
    filled,
    other_worker,
    png,
    reviewer,
    reviewer2,
    worker,
)

S = SubsidyStatus
ACTIONS = sorted({action for (_s, action) in SUBSIDY_FLOW})
NEW_ACCOUNT = {"payee_bank": "中国农业银行", "payee_account": "6228480402564890018"}


# --- C1 ------------------------------------------------------------------------------
def test_t1_the_seeds_base_gives_8323_04_on_the_demo_tiers():
    # 10,000.00 × 30 % + 13,307.60 × 40 % = 3,000.00 + 5,323.04
    assert progressive_amount(DEMO_TIERS, Decimal("23307.60")) == Decimal("8323.04")
    # two other schedules that pass the seed's invariant (0.4·B − 1,000)
    assert progressive_amount([{"upto": "5000", "rate": "0.20"}, {"upto": None, "rate": "0.40"}],
                              Decimal("23307.60")) == Decimal("8323.04")
    assert progressive_amount([{"upto": "20000", "rate": "0.35"}, {"upto": None, "rate": "0.40"}],
                              Decimal("23307.60")) == Decimal("8323.04")


def test_t2_wrong_readings_are_not_what_we_compute():
    assert progressive_amount(DEMO_TIERS, Decimal("23307.60")) != Decimal("9323.04")   # whole base at 40 %
    assert progressive_amount(DEMO_TIERS, Decimal("56308.05")) == Decimal("21523.22")  # the total is not the base


@pytest.mark.parametrize("base, amount", [("10000.00", "3000.00"), ("10000.01", "3000.00"), ("0.01", "0.00")])
def test_t3_edges_round_once_half_up(base, amount):
    assert progressive_amount(DEMO_TIERS, Decimal(base)) == Decimal(amount)


def test_t3_a_base_rounding_to_zero_cannot_be_approved(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    with pytest.raises(DomainError, match="金额须大于0"):
        subsidies.review_application(ctx, app_.id, "approve_first", actor=reviewer, total_cost="100", base="0.01")
    ctx.rollback()
    assert ctx.get(type(app_), app_.id).status == S.PENDING_FIRST


def test_approval_stores_total_base_amount_and_rule_version(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_second", reviewer, reviewer2, finance)
    assert (app_.total_cost, app_.base, app_.amount) == (Decimal("56308.05"), Decimal("23307.60"), Decimal("8323.04"))
    assert app_.rule_version == 1 and app_.amount_label == "8,323.04"


# --- the table: one test per edge ---------------------------------------------------------
EDGES = [  # (from, action, to, who)
    ("draft", "submit", "pending_first", "worker"),
    ("pending_first", "approve_first", "pending_second", "reviewer"),
    ("pending_first", "reject", "draft", "reviewer"),
    ("pending_second", "approve_second", "approved", "reviewer2"),
    ("pending_second", "return", "pending_first", "reviewer2"),
    ("approved", "pay", "done", "finance"),
    ("approved", "pay_fail", "pay_failed", "finance"),
    ("pay_failed", "correct_payee", "approved", "worker"),
]


def test_the_edges_are_the_flow_table():
    assert {(f, a): t for f, a, t, _w in EDGES} == {(f, a): t.to for (f, a), t in SUBSIDY_FLOW.items()}


def _do(ctx, app_, action, actor, worker_user):
    if action == "submit":
        return subsidies.submit_application(ctx, worker_user, app_.number)
    if action == "correct_payee":
        return subsidies.correct_payee(ctx, worker_user, app_.number, NEW_ACCOUNT)
    return subsidies.review_application(ctx, app_.id, action, actor=actor, reason="缺少关系证明材料",
                                        total_cost="56308.05", base="23307.60")


@pytest.mark.parametrize("src, action, dst, who", EDGES, ids=[f"{e[0]}-{e[1]}" for e in EDGES])
def test_edge(ctx, worker, reviewer, reviewer2, finance, src, action, dst, who):
    app_ = at_status(ctx, worker, src, reviewer, reviewer2, finance)
    actor = {"worker": worker, "reviewer": reviewer, "reviewer2": reviewer2, "finance": finance}[who]
    result = _do(ctx, app_, action, actor, worker)
    assert result.status == dst


REFUSALS = [(s.value, a) for s in S for a in ACTIONS if (s, a) not in SUBSIDY_FLOW]


@pytest.mark.parametrize("src, action", REFUSALS, ids=[f"{s}-{a}" for s, a in REFUSALS])
def test_refusal(ctx, worker, reviewer, reviewer2, finance, src, action):
    app_ = at_status(ctx, worker, src, reviewer, reviewer2, finance)
    third = make_user(ctx, "业务审核员", county(ctx, 0))
    with pytest.raises(InvalidTransitionError, match=r"^当前状态为「.+」，不能执行「.+」$"):
        _do(ctx, app_, action, third, worker)
    ctx.rollback()
    assert ctx.get(type(app_), app_.id).status == src


# --- side effects -----------------------------------------------------------------------
def test_reject_returns_to_draft_with_reason_message_and_sms(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    subsidies.review_application(ctx, app_.id, "reject", actor=reviewer, reason="缺少关系证明材料")
    assert app_.status == S.DRAFT and app_.reject_reason == "缺少关系证明材料"
    name = app_.person_name
    message = ctx.scalar(select(Message).where(Message.recipient_id == worker.id, Message.link_id == app_.id))
    assert message.category == "subsidy" and message.link_ref == app_.number
    assert message.body == (f"您提交的“{name}”的住院医疗补助申请被驳回。驳回理由是：缺少关系证明材料。"
                            "请参考驳回理由重新提交申请。")
    sms = ctx.scalar(select(SmsMessage).where(SmsMessage.related_type == "subsidy_application",
                                              SmsMessage.related_id == app_.id))
    assert sms.template_code == "subsidy_rejected" and "缺少关系证明材料" in sms.text
    # corrected and resubmitted: the reason is cleared
    subsidies.submit_application(ctx, worker, app_.number)
    assert app_.status == S.PENDING_FIRST and app_.reject_reason is None


def test_done_tells_the_card_tail_and_the_amount(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "done", reviewer, reviewer2, finance)
    message = ctx.scalar(select(Message).where(Message.recipient_id == worker.id, Message.link_id == app_.id))
    assert "补助金已打款至尾号3235的银行卡" in message.body and message.body.endswith("补助金额：8323.04")
    sms = ctx.scalar(select(SmsMessage).where(SmsMessage.template_code == "subsidy_done",
                                              SmsMessage.related_id == app_.id))
    assert "尾号3235" in sms.text and "8323.04" in sms.text and app_.paid_at is not None


def test_payment_failure_goes_back_to_finance_not_to_review(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pay_failed", reviewer, reviewer2, finance)
    assert ctx.scalar(select(SmsMessage).where(SmsMessage.template_code == "subsidy_pay_failed",
                                               SmsMessage.related_id == app_.id))
    subsidies.correct_payee(ctx, worker, app_.number, NEW_ACCOUNT)
    assert app_.status == S.APPROVED and app_.card_tail == "0018"
    subsidies.review_application(ctx, app_.id, "pay", actor=finance)
    assert app_.status == S.DONE


def test_a_corrected_account_is_luhn_checked(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pay_failed", reviewer, reviewer2, finance)
    with pytest.raises(DomainError, match="银行卡号校验不通过"):
        subsidies.correct_payee(ctx, worker, app_.number, {"payee_bank": "农行", "payee_account": "6228480402564890019"})


def test_the_same_reviewer_cannot_do_first_and_second_review(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_second", reviewer, reviewer2, finance)
    with pytest.raises(SelfApprovalError, match="不能审核自己提交的申请"):
        subsidies.review_application(ctx, app_.id, "approve_second", actor=reviewer)
    ctx.rollback()
    assert ctx.get(type(app_), app_.id).status == S.PENDING_SECOND


def test_progress_bar_follows_the_states(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "approved", reviewer, reviewer2, finance)
    bar = subsidies.progress(ctx, app_)
    assert [s["label"] for s in bar] == ["申请补助", "补助审核", "审核通过", "办结"]
    assert [s["done"] for s in bar] == [True, True, True, False] and bar[2]["current"]


# --- the steps (R-9) ------------------------------------------------------------------------
def test_number_is_zy_day_letter_sequence(ctx, worker):
    app_ = subsidies.create_application(ctx, worker)
    assert app_.number.startswith("ZY") and app_.number[10] == "L" and len(app_.number) == 17
    assert app_.status == S.DRAFT and app_.amount_label == "待定"


def test_steps_in_order_and_all_needed_to_submit(ctx, worker):
    app_ = subsidies.create_application(ctx, worker)
    with pytest.raises(DomainError, match="请先完成第1步"):
        subsidies.save_stay(ctx, worker, app_.number, admission=beijing_today(), discharge=beijing_today(),
                            hospital="医院", receipts=[("r.png", png())])
    with pytest.raises(DomainError, match="请上传身份证反面照片"):
        subsidies.save_id_photos(ctx, worker, app_.number, front=("f.png", png()))
    ctx.rollback()
    with pytest.raises(DomainError, match="请先上传身份证正面照片"):
        subsidies.submit_application(ctx, worker, app_.number)


@pytest.mark.parametrize("stay, message", [
    ({"admission": beijing_today() - timedelta(days=2), "discharge": beijing_today() - timedelta(days=3)}, "入院日期不能晚于出院日期"),
    ({"discharge": beijing_today() + timedelta(days=1)}, "出院日期不能晚于今天"),
    ({"admission": beijing_today() - timedelta(days=90)}, "入院日期不在保障期内"),
    ({"admission": "2025-13-01"}, "入院日期格式不正确"),
    ({"hospital": " "}, "请填写就诊医院"),
])
def test_stay_rules(ctx, worker, stay, message):
    with pytest.raises(DomainError, match=message):
        filled(ctx, worker, **stay)


def test_a_receipt_is_required(ctx, worker):
    app_ = subsidies.create_application(ctx, worker)
    subsidies.save_id_photos(ctx, worker, app_.number, front=("f.png", png()), back=("b.png", png()))
    with pytest.raises(DomainError, match="请上传至少一张住院费用单据"):
        subsidies.save_stay(ctx, worker, app_.number, admission=beijing_today() - timedelta(days=3),
                            discharge=beijing_today(), hospital="医院", receipts=[])


def test_a_payee_other_than_the_insured_needs_a_relation_proof(ctx, worker):
    number = filled(ctx, worker)
    with pytest.raises(DomainError, match="请上传关系证明材料"):
        subsidies.save_account(ctx, worker, number, {"payee_name": "陆小明", "payee_relation": "子女",
                                                     "payee_bank": "工行", "payee_account": CARD})
    ctx.rollback()
    app_ = subsidies.save_account(ctx, worker, number, {"payee_name": "陆小明", "payee_relation": "子女",
                                                        "payee_bank": "工行", "payee_account": CARD},
                                  proof=("户口本.png", png()))
    assert app_.payee_relation == "子女"


def test_a_passbook_skips_luhn_but_a_card_does_not(ctx, worker):
    number = filled(ctx, worker)
    with pytest.raises(DomainError, match="银行卡号校验不通过"):
        subsidies.save_account(ctx, worker, number, {"payee_bank": "农信社", "payee_account": "6222020200112283236"})
    ctx.rollback()
    app_ = subsidies.save_account(ctx, worker, number, {"payee_bank": "农信社", "account_type": "passbook",
                                                        "payee_account": "12345678901"})
    assert app_.account_type == "passbook"


def test_one_open_application_per_stay(ctx, worker):
    filled(ctx, worker)
    with pytest.raises(DomainError, match="该次住院（相同入院日期）已有未办结的补助申请"):
        filled(ctx, worker)


def test_only_a_draft_is_deleted(ctx, worker, reviewer, reviewer2, finance):
    number = filled(ctx, worker)
    subsidies.delete_application(ctx, worker, number)
    with pytest.raises(NotFoundError):
        subsidies.own_application(ctx, worker, number)
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    with pytest.raises(DomainError, match="当前状态为「待初核」，不能删除"):
        subsidies.delete_application(ctx, worker, app_.number)


def test_an_unbound_account_cannot_apply(ctx, covered):
    with pytest.raises(NotFoundError, match="请先绑定职工信息"):
        subsidies.create_application(ctx, make_user(ctx, "会员"))


# --- refused side -----------------------------------------------------------------------------
def test_another_workers_application_is_not_found(ctx, worker, other_worker):
    number = filled(ctx, worker)
    for call in (lambda: subsidies.own_application(ctx, other_worker, number),
                 lambda: subsidies.submit_application(ctx, other_worker, number),
                 lambda: subsidies.delete_application(ctx, other_worker, number)):
        with pytest.raises(NotFoundError):
            call()


def test_a_reviewer_of_another_county_does_not_find_it(ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    stranger = make_user(ctx, "业务审核员", county(ctx, 1))
    with pytest.raises(NotFoundError):
        subsidies.review_application(ctx, app_.id, "reject", actor=stranger, reason="x")
    ctx.rollback()
    assert ctx.get(type(app_), app_.id).status == S.PENDING_FIRST


def test_one_review_stage_when_the_second_is_switched_off(app, ctx, worker, reviewer, reviewer2, finance,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "SUBSIDY_SECOND_REVIEW", False)
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    subsidies.review_application(ctx, app_.id, "approve_first", actor=reviewer, total_cost="56308.05",
                                 base="23307.60")
    assert app_.status == S.APPROVED and app_.amount == Decimal("8323.04")


def test_the_annual_cap_limits_what_is_left_for_the_year(ctx, worker, covered, reviewer, reviewer2, finance,
                                                          office_staff):
    from app.services.mutual_aid.plans import add_benefit_rule

    add_benefit_rule(ctx, covered[0].plan_id, {"type": "progressive", "tiers": DEMO_TIERS, "annual_cap": "10000"},
                     effective_from=date(2001, 1, 1), note="年度封顶1万元", actor=office_staff)
    first = at_status(ctx, worker, "done", reviewer, reviewer2, finance)
    assert first.amount == Decimal("8323.04") and first.rule_version == 2
    number = filled(ctx, worker, admission=beijing_today() - timedelta(days=5),
                    discharge=beijing_today() - timedelta(days=4))
    second = subsidies.submit_application(ctx, worker, number)
    if second.admission_date.year != first.admission_date.year:
        pytest.skip("the two stays fall in different years today")
    subsidies.review_application(ctx, second.id, "approve_first", actor=reviewer, total_cost="56308.05",
                                 base="23307.60")
    assert second.amount == Decimal("1676.96")  # 10,000.00 − 8,323.04
