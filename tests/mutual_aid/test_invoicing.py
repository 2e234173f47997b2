"""开票录入 (C3), 结算期 (C4) and 到账确认: the requirements' worked examples as tests."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services.errors import DomainError, InvalidTransitionError
from app.services.mutual_aid import invoicing as svc
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import EnrollmentStatus, InsuredPerson, InvoiceStatus, PeriodStatus, SettlementPeriod
from tests.factories import make_plan
from tests.mutual_aid.conftest import one_invoice, persons


def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=DISPLAY_TZ)


# --- C3 --------------------------------------------------------------------------------------
def test_c3_one_invoice_of_100_persons_at_68_each_is_accepted(ctx, invoicing, unit_and_handler):
    invoice = one_invoice(ctx, invoicing, unit_and_handler[1], 100, "6800.00")
    assert invoice.status_label == "草稿"
    assert svc.invoice_problems(ctx, invoicing) == []


def test_c3_a_split_of_20_at_100_and_80_at_60_is_accepted(ctx, invoicing, unit_and_handler):
    handler = unit_and_handler[1]
    one_invoice(ctx, invoicing, handler, 20, "2000.00")
    one_invoice(ctx, invoicing, handler, 80, "4800.00")
    assert svc.invoice_problems(ctx, invoicing) == []
    svc.submit_invoices(ctx, invoicing.id, actor=handler)
    assert invoicing.status_label == "待到账确认"


def test_c3_101_per_capita_is_above_the_cap_of_high_risk_price_times_shares(ctx, invoicing, unit_and_handler):
    with pytest.raises(DomainError) as err:
        one_invoice(ctx, invoicing, unit_and_handler[1], 50, "5050.00")
    assert err.value.message == "人均单价 101.00 元超过上限 100.00 元（高危会费单价 50.00 × 2 份）"


def test_c3_the_exact_quotient_is_compared_not_the_rounded_one(ctx, invoicing, unit_and_handler):
    # 3 persons, 300.01: 100.0033… per head, shown as 100.00 but above the cap
    with pytest.raises(DomainError, match="超过上限 100.00 元"):
        one_invoice(ctx, invoicing, unit_and_handler[1], 3, "300.01")
    one_invoice(ctx, invoicing, unit_and_handler[1], 3, "300.00")


def test_c3_a_single_group_plan_has_no_cap_but_a_fixed_per_capita(ctx, office, unit_and_handler, office_staff,
                                                                  tmp_path):
    from app.services.mutual_aid import enrollment
    from tests.factories import import_persons

    handler = unit_and_handler[1]
    plan = make_plan(ctx, office, price="30.00", price_high="50.00")
    draft = enrollment.create_enrollment(ctx, actor=handler, plan_shares={plan.id: 2})
    import_persons(ctx, draft, draft.plans[0], persons(10), handler, tmp_path)
    enrollment.set_details(ctx, draft.id, actor=handler, staff_count=10, female_staff_count=0, note="")
    enrollment.submit_enrollment(ctx, draft.id, actor=handler)
    enrollment.review_enrollment(ctx, draft.id, "approve", actor=office_staff)
    with pytest.raises(DomainError) as err:
        one_invoice(ctx, draft, handler, 10, "680.00")
    assert err.value.message == ("该保障活动只有普通人群，人均单价须为 60.00 元（会费单价 30.00 × 2 份），"
                                 "本行为 68.00 元")
    one_invoice(ctx, draft, handler, 10, "600.00")


def test_invoices_must_add_up_to_the_payable_and_the_persons(ctx, invoicing, unit_and_handler):
    handler = unit_and_handler[1]
    one_invoice(ctx, invoicing, handler, 20, "2000.00")
    with pytest.raises(DomainError) as err:
        svc.submit_invoices(ctx, invoicing.id, actor=handler)
    assert "开票人数合计 20 人，应为参保人数 100 人" in err.value.message
    assert "开票金额合计 2000.00 元，应为应缴金额 6800.00 元" in err.value.message


def test_invoice_fields_are_checked_in_chinese(ctx, invoicing, unit_and_handler):
    handler = unit_and_handler[1]
    with pytest.raises(DomainError, match="邮箱格式不正确"):
        one_invoice(ctx, invoicing, handler, 100, "6800.00", email="bad")
    with pytest.raises(DomainError, match="开票金额须大于0"):
        one_invoice(ctx, invoicing, handler, 100, "0")
    with pytest.raises(DomainError, match="纳税人识别号"):
        one_invoice(ctx, invoicing, handler, 100, "6800.00", invoice_type="special")


def test_invoices_are_refused_before_the_review_passed(ctx, draft, unit_and_handler):
    with pytest.raises(DomainError, match="不能修改开票信息"):
        one_invoice(ctx, draft, unit_and_handler[1], 100, "6800.00")


# --- C4 --------------------------------------------------------------------------------------
def test_c4_periods_run_from_the_26th_to_the_25th_beijing_time(app):
    with app.app_context():
        assert svc.period_of(beijing(2025, 1, 25, 23, 59)) == "2025-01"
        assert svc.period_of(beijing(2025, 1, 26, 0, 0)) == "2025-02"
        assert svc.period_of(beijing(2025, 1, 31, 12, 0)) == "2025-02"  # 26th–31st: next month's, open
        assert svc.period_of(beijing(2024, 12, 28)) == "2025-01"
        # 2025-01-25 17:00 UTC is already 01:00 on the 26th in Beijing
        assert svc.period_of(datetime(2025, 1, 25, 17, 0, tzinfo=timezone.utc)) == "2025-02"
        assert svc.closes_at("2025-01") == beijing(2025, 1, 26)


def test_c4_the_settlement_day_is_a_setting(app):
    with app.app_context():
        app.config["SETTLEMENT_DAY"] = 20
        try:
            assert svc.period_of(beijing(2025, 3, 21)) == "2025-04"
        finally:
            app.config["SETTLEMENT_DAY"] = 25


def test_c4_a_period_is_settled_only_after_its_day(ctx, finance):
    with pytest.raises(DomainError, match="须在 01月25日 24:00 之后结算"):
        svc.settle_period(ctx, "2024-01", actor=finance, now=beijing(2024, 1, 25, 23, 59))
    period = svc.settle_period(ctx, "2024-01", actor=finance, now=beijing(2024, 1, 26, 0, 0))
    assert period.status_label == "已结算"
    with pytest.raises(DomainError, match="已结算"):
        svc.settle_period(ctx, "2024-01", actor=finance, now=beijing(2024, 1, 27))


def test_c4_after_settlement_no_invoice_of_the_period_is_issued(ctx, invoicing, unit_and_handler, finance):
    from tests.shared.test_attachments import pdf_bytes

    handler = unit_and_handler[1]
    invoice = one_invoice(ctx, invoicing, handler, 100, "6800.00")
    confirmed = beijing(2025, 1, 25, 23, 59)
    svc.submit_invoices(ctx, invoicing.id, actor=handler, now=confirmed - timedelta(hours=1))
    svc.confirm_payment(ctx, invoicing.id, actor=finance, amount="6800.00", paid_on=date(2025, 1, 25),
                        reference="B1", now=confirmed)
    assert invoicing.settlement_month == "2025-01"
    svc.settle_period(ctx, "2025-01", actor=finance, now=beijing(2025, 1, 26, 0, 0))
    with pytest.raises(DomainError) as err:
        svc.issue_invoice(ctx, invoice.id, actor=finance, file_name="发票.pdf", data=pdf_bytes(),
                          now=beijing(2025, 1, 26, 9, 0))
    assert err.value.message == "该参保单所属结算期（2025年1月，1月25日结算）已结算，不再开具发票"


def test_c4_a_payment_confirmed_on_the_26th_belongs_to_the_next_open_period(ctx, invoicing, unit_and_handler,
                                                                            finance):
    handler = unit_and_handler[1]
    one_invoice(ctx, invoicing, handler, 100, "6800.00")
    svc.submit_invoices(ctx, invoicing.id, actor=handler, now=beijing(2025, 3, 25, 10, 0))
    svc.confirm_payment(ctx, invoicing.id, actor=finance, amount="6800.00", paid_on=date(2025, 3, 26),
                        reference="B2", now=beijing(2025, 3, 26, 0, 0))
    assert invoicing.settlement_month == "2025-04"


def test_the_beat_job_settles_due_periods(ctx):
    ctx.add(SettlementPeriod(month="2023-05", closes_at=beijing(2023, 5, 26), status=PeriodStatus.OPEN))
    ctx.commit()
    assert svc.settle_due_periods(ctx) >= 1
    assert ctx.get(SettlementPeriod, "2023-05").status == PeriodStatus.SETTLED


# --- 到账确认 ---------------------------------------------------------------------------------
def test_finance_confirms_the_payment_and_coverage_starts_the_next_day(ctx, effective):
    assert effective.status == EnrollmentStatus.EFFECTIVE and effective.paid_amount == Decimal("6800.00")
    today = utcnow().astimezone(DISPLAY_TZ).date()
    assert effective.coverage_start == today + timedelta(days=1)
    from app.services.mutual_aid.plans import add_months

    assert effective.coverage_end == add_months(today + timedelta(days=1), 12) - timedelta(days=1)
    starts = set(ctx.scalars(select(InsuredPerson.coverage_start).where(InsuredPerson.enrollment_id == effective.id)))
    assert starts == {effective.coverage_start}


def test_a_payment_of_another_amount_is_refused(ctx, invoicing, unit_and_handler, finance):
    one_invoice(ctx, invoicing, unit_and_handler[1], 100, "6800.00")
    svc.submit_invoices(ctx, invoicing.id, actor=unit_and_handler[1])
    with pytest.raises(DomainError, match="到账金额 6000.00 元与应缴金额 6800.00 元不一致"):
        svc.confirm_payment(ctx, invoicing.id, actor=finance, amount="6000", paid_on=date.today(), reference="X")
    with pytest.raises(DomainError, match="不能晚于今天"):
        svc.confirm_payment(ctx, invoicing.id, actor=finance, amount="6800", paid_on=date.today() + timedelta(days=2),
                            reference="X")


def test_finance_returns_and_the_invoices_are_editable_again(ctx, invoicing, unit_and_handler, finance):
    invoice = one_invoice(ctx, invoicing, unit_and_handler[1], 100, "6800.00")
    svc.submit_invoices(ctx, invoicing.id, actor=unit_and_handler[1])
    assert ctx.get(type(invoice), invoice.id).status == InvoiceStatus.SUBMITTED
    svc.return_payment(ctx, invoicing.id, actor=finance, reason="未收到款项")
    assert invoicing.status_label == "待开票" and invoice.status == InvoiceStatus.DRAFT
    one_invoice(ctx, invoicing, unit_and_handler[1], 100, "6800.00", invoice_id=None)


def test_payment_cannot_be_confirmed_twice(ctx, effective, finance):
    with pytest.raises(InvalidTransitionError, match="当前状态为「已生效」"):
        svc.confirm_payment(ctx, effective.id, actor=finance, amount="6800.00", paid_on=date.today(), reference="X")


def test_issuing_mails_the_invoice_pdf_to_the_unit(ctx, effective, finance):
    from models.outbox import MailMessage
    from tests.shared.test_attachments import pdf_bytes

    invoice = svc.invoices_of(ctx, effective)[0]
    svc.issue_invoice(ctx, invoice.id, actor=finance, file_name="电子发票.pdf", data=pdf_bytes())
    mail = ctx.scalars(select(MailMessage).where(MailMessage.related_type == "invoice_request",
                                                 MailMessage.related_id == invoice.id)).one()
    assert mail.to_address == "finance@unit.invalid" and effective.number in mail.subject and mail.attachment_id
    assert invoice.status_label == "已发送"
