"""补助打款 in batch (S001:L73–83, §3.1.6): subsidy applications (ZY…) are a payable kind beside claims:
the bank payment batch lists them, the bank's return file marks each 办结 or 打款失败 with the worker's
站内信 + SMS of the one-by-one steps, and the worker corrects a failed account back to finance. The
refused side: a role without the finance grant → 403 and nothing changed; a number of another scope in
the return file → that row fails with a Chinese reason."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.services import imports
from app.services.mutual_aid import payments
from app.xlsx.reader import read_rows
from models.messages import Message
from models.mutual_aid import SubsidyApplication, SubsidyStatus
from models.outbox import SmsMessage
from tests.factories import county, make_user, make_xlsx
from tests.mutual_aid.worker_fixtures import (  # noqa: F401 (fixtures)
    CARD,
    at_status,
    covered,
    other_worker,
    reviewer,
    reviewer2,
    worker,
)

from .test_subsidies_api import api  # noqa: F401 (fixture)

RETURN_HEADER = ["业务编号", "打款结果", "银行流水号", "打款日期", "失败原因"]


@pytest.fixture()
def approved(ctx, worker, other_worker, reviewer, reviewer2, finance):
    """Two applications 审核通过 (8,323.04 each), one per worker."""
    return [at_status(ctx, user, "approved", reviewer, reviewer2, finance) for user in (worker, other_worker)]


def _return_file(ctx, tmp_path, actor, rows):
    path = make_xlsx(tmp_path / "回盘.xlsx", [RETURN_HEADER, *rows], sheet="银行回盘")
    with open(path, "rb") as fh:
        job = imports.submit_import(ctx, actor=actor, kind_key="bank_return", file_name="回盘.xlsx", stream=fh)
    return imports.run_import(ctx, job.id)


def _status(ctx, application) -> str:
    ctx.expire_all()
    return ctx.get(SubsidyApplication, application.id).status


def test_batch_file_lists_the_subsidy_rows_with_the_whole_account(ctx, approved, finance, tmp_path):
    path = tmp_path / "batch.xlsx"
    assert payments.write_batch_file(ctx, path, finance) >= 2
    rows = list(read_rows(str(path)))
    assert rows[0] == ["业务编号", "收款人", "开户银行", "开户网点", "收款账号", "金额（元）", "业务类型"]
    for application in approved:
        row = next(r for r in rows if r[0] == application.number)
        # the bank needs the whole account: the file is for holders of the pay grant only (as for claims)
        assert row[1] == application.person_name and row[2] == "中国工商银行南宁分行"
        assert str(row[4]) == CARD and str(row[5]) == "8323.04" and row[6] == "补助申请"


def test_payments_page_lists_subsidies_masked(ctx, approved, finance, client_as):
    html = client_as(finance.username).get("/claims/payments").get_data(as_text=True)
    assert "补助申请（审核通过，待打款）" in html
    for application in approved:
        assert application.number in html
    assert CARD not in html and "6222***********3235" in html


def test_return_file_marks_one_paid_one_failed_and_the_workers_are_told(ctx, approved, finance, worker,
                                                                         other_worker, tmp_path, api):
    paid, failed = approved
    job = _return_file(ctx, tmp_path, finance, [[paid.number, "成功", "ICBC-ZY-1", "2026-03-01", ""],
                                                [failed.number, "失败", "", "", "户名与账号不符"]])
    assert (job.updated_rows, job.error_rows) == (2, 0)
    ctx.expire_all()
    paid, failed = (ctx.get(SubsidyApplication, a.id) for a in approved)
    assert (paid.status, paid.payment_reference, str(paid.paid_on)) == (SubsidyStatus.DONE, "ICBC-ZY-1", "2026-03-01")
    assert paid.payment_batch.startswith("HP") and paid.paid_at is not None
    assert (failed.status, failed.pay_fail_reason) == (SubsidyStatus.PAY_FAILED, "户名与账号不符")

    # the messages are those of the one-by-one steps
    done_msg = api(worker)("get", "/api/v1/worker/messages?category=补助申请").json["result"][0]
    assert "补助金已打款至尾号3235的银行卡" in done_msg["body"] and "补助金额：8323.04" in done_msg["body"]
    fail_msg = api(other_worker)("get", "/api/v1/worker/messages?category=补助申请").json["result"][0]
    assert f"您提交的“{failed.person_name}”的住院医疗补助申请打款失败，请修正信息。" in fail_msg["body"]
    sms = {m.related_id: m for m in ctx.scalars(select(SmsMessage).where(
        SmsMessage.related_type == "subsidy_application", SmsMessage.template_code.like("subsidy_%")))}
    assert sms[paid.id].template_code == "subsidy_done" and "3235" in sms[paid.id].text
    assert sms[failed.id].template_code == "subsidy_pay_failed" and "打款失败" in sms[failed.id].text

    # the worker corrects the account through the API: back to finance (审核通过), in the next batch
    fixed = api(other_worker)("put", f"/api/v1/worker/subsidies/{failed.number}/payee",
                              json={"payee_bank": "中国农业银行", "payee_account": "6228480402564890018"})
    assert fixed.status_code == 200, fixed.get_data(as_text=True)
    assert _status(ctx, failed) == SubsidyStatus.APPROVED
    again = [i.number for i in payments.pending_items(ctx, finance, ["subsidy"])]
    assert failed.number in again and paid.number not in again


def test_a_number_of_another_scope_fails_that_row_in_chinese(ctx, approved, tmp_path):
    outsider = make_user(ctx, "财务", county(ctx, 1))
    paid, _other = approved
    job = _return_file(ctx, tmp_path, outsider, [[paid.number, "成功", "X1", "", ""]])
    assert (job.updated_rows, job.error_rows) == (0, 1)
    assert _status(ctx, paid) == SubsidyStatus.APPROVED
    assert paid.number not in [i.number for i in payments.pending_items(ctx, outsider)]
    assert ctx.scalar(select(Message).where(Message.link_ref == paid.number, Message.title == "申请已成功办结")) is None


def test_a_paid_number_twice_in_the_file_and_a_done_one_are_refused_rows(ctx, approved, finance, tmp_path):
    paid, _other = approved
    _return_file(ctx, tmp_path, finance, [[paid.number, "成功", "X1", "", ""]])
    job = _return_file(ctx, tmp_path, finance, [[paid.number, "失败", "", "", "重复"]])
    assert (job.updated_rows, job.error_rows) == (0, 1)
    assert _status(ctx, paid) == SubsidyStatus.DONE


@pytest.mark.parametrize("method, url", [("get", "/claims/payments"), ("get", "/claims/payments/batch.xlsx"),
                                         ("post", "/claims/payments/return")])
def test_a_role_without_the_finance_grant_is_403_and_nothing_changes(ctx, approved, reviewer, client_as,
                                                                     tmp_path, method, url):
    client = client_as(reviewer.username)
    if method == "post":
        path = make_xlsx(tmp_path / "回盘.xlsx", [RETURN_HEADER, [approved[0].number, "成功", "X", "", ""]],
                         sheet="银行回盘")
        with open(path, "rb") as fh:
            response = client.post(url, data={"file": (io.BytesIO(fh.read()), "回盘.xlsx")},
                                   content_type="multipart/form-data")
    else:
        response = client.get(url)
    assert response.status_code == 403
    assert [_status(ctx, a) for a in approved] == [SubsidyStatus.APPROVED] * 2
