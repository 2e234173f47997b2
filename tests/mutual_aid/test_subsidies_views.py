"""The back-office queues (补助初核 / 复核 / 打款, 变更初核 / 复核): steps through the pages as each
role, the age column, refusals in Chinese, 403 without the grant (nothing changed), 404 out of scope."""
from __future__ import annotations

from sqlalchemy import select

from app.services.mutual_aid import info_changes
from models.mutual_aid import InfoChangeStatus, SubsidyApplication, SubsidyStatus
from tests.conftest import login
from tests.factories import county, make_user
from tests.mutual_aid.worker_fixtures import (  # noqa: F401 (fixtures)
    at_status,
    covered,
    png,
    reviewer,
    reviewer2,
    unique_phone,
    worker,
)


def _client(app, user):
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def _status(ctx, app_id):
    ctx.expire_all()
    return ctx.get(SubsidyApplication, app_id).status


def test_the_subsidy_pages_run_first_review_second_review_and_payment(app, ctx, worker, reviewer, reviewer2,
                                                                      finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    first = _client(app, reviewer)
    page = first.get(f"/subsidyfirstreviewview/list/?_flt_0_number={app_.number}").get_data(as_text=True)
    assert app_.number in page and "已等待" in page
    show = first.get(f"/subsidyfirstreviewview/show/{app_.id}").get_data(as_text=True)
    assert "初核通过" in show and "补助基数" in show
    response = first.post(f"/subsidyfirstreviewview/step/{app_.id}",
                          data={"action": "approve_first", "total_cost": "56308.05", "base": "23307.60"})
    assert response.status_code == 302 and _status(ctx, app_.id) == SubsidyStatus.PENDING_SECOND
    assert str(ctx.get(SubsidyApplication, app_.id).amount) == "8323.04"
    # the same reviewer may not do 复核
    same = first.post(f"/subsidysecondreviewview/step/{app_.id}", data={"action": "approve_second"},
                      follow_redirects=True)
    assert "不能审核自己提交的申请" in same.get_data(as_text=True)
    assert _status(ctx, app_.id) == SubsidyStatus.PENDING_SECOND
    second = _client(app, reviewer2)
    assert second.post(f"/subsidysecondreviewview/step/{app_.id}", data={"action": "approve_second"}).status_code == 302
    assert _status(ctx, app_.id) == SubsidyStatus.APPROVED
    pay = _client(app, finance)
    listed = pay.get("/subsidypaymentview/list/").get_data(as_text=True)
    assert app_.number in listed and "尾号3235" in listed
    done = pay.post(f"/subsidypaymentview/step/{app_.id}", data={"action": "pay"}, follow_redirects=True)
    assert "「已打款」已完成" in done.get_data(as_text=True)
    assert _status(ctx, app_.id) == SubsidyStatus.DONE


def test_a_role_without_the_grant_gets_403_and_nothing_changes(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "approved", reviewer, reviewer2, finance)
    assert _client(app, reviewer).post(f"/subsidypaymentview/step/{app_.id}", data={"action": "pay"}).status_code == 403
    assert _client(app, finance).get("/subsidyfirstreviewview/list/").status_code == 403
    assert _status(ctx, app_.id) == SubsidyStatus.APPROVED


def test_another_countys_reviewer_gets_404(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    stranger = _client(app, make_user(ctx, "业务审核员", county(ctx, 1)))
    assert stranger.get(f"/subsidyfirstreviewview/show/{app_.id}").status_code == 404
    assert stranger.post(f"/subsidyfirstreviewview/step/{app_.id}", data={"action": "reject", "reason": "x"}
                         ).status_code == 404
    assert _status(ctx, app_.id) == SubsidyStatus.PENDING_FIRST


def test_a_zero_amount_and_a_missing_reason_are_refused_in_chinese(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    client = _client(app, reviewer)
    zero = client.post(f"/subsidyfirstreviewview/step/{app_.id}",
                       data={"action": "approve_first", "total_cost": "100", "base": "0.01"}, follow_redirects=True)
    assert "金额须大于0" in zero.get_data(as_text=True)
    bad = client.post(f"/subsidyfirstreviewview/step/{app_.id}",
                      data={"action": "approve_first", "total_cost": "abc", "base": "1"}, follow_redirects=True)
    assert "请填写住院总费用（数字）" in bad.get_data(as_text=True)
    blank = client.post(f"/subsidyfirstreviewview/step/{app_.id}", data={"action": "reject", "reason": " "},
                        follow_redirects=True)
    assert "须填写原因" in blank.get_data(as_text=True)
    assert client.post(f"/subsidyfirstreviewview/step/{app_.id}", data={"action": "pay"}).status_code == 404
    assert _status(ctx, app_.id) == SubsidyStatus.PENDING_FIRST


def test_the_info_change_pages_run_both_reviews(app, ctx, worker, reviewer, reviewer2):
    row = info_changes.create_change(ctx, worker, {"phone": unique_phone()}, evidence=[("凭证.png", png())])
    first = _client(app, reviewer)
    show = first.get(f"/infochangefirstreviewview/show/{row.id}").get_data(as_text=True)
    assert "变更前" in show and "手机号" in show and "初核通过" in show
    assert first.post(f"/infochangefirstreviewview/step/{row.id}", data={"action": "approve_first"}).status_code == 302
    same = first.post(f"/infochangesecondreviewview/step/{row.id}", data={"action": "approve_second"},
                      follow_redirects=True)
    assert "不能审核自己提交的申请" in same.get_data(as_text=True)
    assert _client(app, reviewer2).post(f"/infochangesecondreviewview/step/{row.id}",
                                        data={"action": "approve_second"}).status_code == 302
    ctx.expire_all()
    assert ctx.get(type(row), row.id).status == InfoChangeStatus.DONE
    assert _client(app, make_user(ctx, "财务", county(ctx, 0))).get("/infochangeview/list/").status_code == 403


# --- the base from the settlement sheet, default formula (C1 proposal) -----------------------
# C1's pair: total 56,308.05, base 23,307.60 (difference 33,000.45); one split of the difference:
# 统筹支付 30,000.00 + 全自费 3,000.45 → base 56,308.05 − 30,000.00 − 3,000.45 = 23,307.60 → 8,323.04
C1_SHEET = {"total_cost": "56308.05", "fund_paid": "30000.00", "critical_paid": "", "other_paid": "",
            "self_paid_full": "3000.45"}


def test_first_review_page_offers_the_sheet_and_the_default_base(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    show = _client(app, reviewer).get(f"/subsidyfirstreviewview/show/{app_.id}").get_data(as_text=True)
    for label in ("统筹支付", "大病保险支付", "其他报销", "全自费", "住院总费用 − 统筹支付 − 大病保险支付 − 其他报销 − 全自费"):
        assert label in show
    assert "js/subsidy_base.js" in show


def test_a_blank_base_takes_the_default_formula_on_c1s_numbers(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    response = _client(app, reviewer).post(f"/subsidyfirstreviewview/step/{app_.id}",
                                           data={"action": "approve_first", **C1_SHEET, "base": ""})
    assert response.status_code == 302 and _status(ctx, app_.id) == SubsidyStatus.PENDING_SECOND
    stored = ctx.get(SubsidyApplication, app_.id)
    assert (str(stored.base), str(stored.amount)) == ("23307.60", "8323.04")
    assert (str(stored.fund_paid), str(stored.critical_paid), str(stored.self_paid_full)) == (
        "30000.00", "0.00", "3000.45")


def test_an_entered_base_overrides_the_formula(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    _client(app, reviewer).post(f"/subsidyfirstreviewview/step/{app_.id}",
                                data={"action": "approve_first", **C1_SHEET, "base": "10000.00"})
    stored = ctx.get(SubsidyApplication, app_.id)
    assert (str(stored.base), str(stored.amount)) == ("10000.00", "3000.00")


def test_sheet_payments_above_the_total_are_refused_in_chinese(app, ctx, worker, reviewer, reviewer2, finance):
    app_ = at_status(ctx, worker, "pending_first", reviewer, reviewer2, finance)
    response = _client(app, reviewer).post(f"/subsidyfirstreviewview/step/{app_.id}", data={
        "action": "approve_first", "total_cost": "1000", "fund_paid": "800", "self_paid_full": "300.01", "base": ""},
        follow_redirects=True)
    assert "之和不能大于住院总费用" in response.get_data(as_text=True)
    bad = _client(app, reviewer).post(f"/subsidyfirstreviewview/step/{app_.id}", data={
        "action": "approve_first", "total_cost": "1000", "fund_paid": "abc"}, follow_redirects=True)
    assert bad.status_code == 200 and "请填写统筹支付（数字）" in bad.get_data(as_text=True)
    assert _status(ctx, app_.id) == SubsidyStatus.PENDING_FIRST
