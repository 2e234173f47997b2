"""The batch flow: import (pre-validation) → submit → receive / return → bank summary → bank result."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.services.errors import DomainError, InvalidTransitionError, NotFoundError, ReasonRequiredError
from app.services.service_cards import batches, cards
from app.services.service_cards.coverage import beijing_date, coverage_period
from models.members import Member
from models.service_cards import (
    BatchStatus,
    CardApplication,
    CardStatus,
    CoverageRegistration,
    ServiceCard,
)

from .conftest import application_row, bank_rows, upload, user


def test_import_prevalidates_with_member_checks_and_keeps_numbers(ctx, batch, clerk, tmp_path):
    existing = ctx.scalars(select(Member).where(Member.org_id == clerk.org_id, Member.status == "active")
                           .order_by(Member.id.desc())).first()
    rows = [application_row(), application_row(id_number="110101199003071235"),  # bad check digit
            application_row(phone=""), application_row(phone="12345"),
            application_row(name=existing.name, id_number=existing.id_number)]
    job = upload(ctx, batch, rows, clerk, tmp_path)
    assert (job.ok_rows, job.error_rows) == (2, 3)
    lines = ctx.scalars(select(CardApplication).where(CardApplication.batch_id == batch.id)).all()
    assert len(lines) == 2 and batch.member_count == 2
    kept = next(line for line in lines if line.member_id == existing.id)
    assert kept.member_no == existing.member_no and len(kept.member_no) == 10
    new = next(line for line in lines if line.member_id != existing.id)
    assert new.member_no[:3] == "101"  # 黄浦区's code, text with leading digits kept
    # re-importing the same file duplicates nothing
    job = upload(ctx, batch, rows, clerk, tmp_path, name="again.xlsx")
    assert ctx.scalar(select(func.count()).where(CardApplication.batch_id == batch.id)) == 2


def test_submit_refused_with_errors_left_or_without_id_copies(ctx, batch, clerk, tmp_path):
    with pytest.raises(DomainError, match="还没有会员"):
        batches.update_summary(ctx, batch.id, actor=clerk, id_copies_received=True)
        batches.submit_batch(ctx, batch.id, actor=clerk)
    ctx.rollback()
    upload(ctx, batch, [application_row(), application_row(phone="")], clerk, tmp_path)
    with pytest.raises(DomainError, match="未通过"):
        batches.submit_batch(ctx, batch.id, actor=clerk)
    ctx.rollback()
    batches.update_summary(ctx, batch.id, actor=clerk, id_copies_received=False)
    upload(ctx, batch, [application_row()], clerk, tmp_path, name="fixed.xlsx")
    with pytest.raises(DomainError, match="身份证复印件"):
        batches.submit_batch(ctx, batch.id, actor=clerk)
    ctx.rollback()
    batches.update_summary(ctx, batch.id, actor=clerk, id_copies_received=True)
    done = batches.submit_batch(ctx, batch.id, actor=clerk)
    assert done.status == BatchStatus.SUBMITTED and done.submitted_by_id == clerk.id and done.submitted_at


def test_receive_checks_counts_records_handover_and_registers_coverage(ctx, submitted, county_admin):
    with pytest.raises(DomainError, match="不符"):
        batches.receive_batch(ctx, submitted.id, actor=county_admin, counted=2)
    ctx.rollback()
    batch = batches.receive_batch(ctx, submitted.id, actor=county_admin, counted=3, remark="复印件3份")
    assert batch.status == BatchStatus.RECEIVED
    assert (batch.received_by_id, batch.counted, batch.handover_remark) == (county_admin.id, 3, "复印件3份")
    regs = ctx.scalars(select(CoverageRegistration).where(CoverageRegistration.batch_id == batch.id)).all()
    expected = coverage_period(beijing_date(batch.submitted_at))
    assert len(regs) == 3
    assert {(r.period_start, r.period_end, r.fee) for r in regs} == {(expected.start, expected.end, expected.fee)}
    assert all(r.registered_on == beijing_date(batch.submitted_at) for r in regs)
    assert all(r.org_id == batch.org_id for r in regs)  # funded by the union


def test_return_needs_reason_and_goes_back_to_draft(ctx, submitted, county_admin, clerk):
    with pytest.raises(ReasonRequiredError):
        batches.return_batch(ctx, submitted.id, actor=county_admin, reason=" ")
    ctx.rollback()
    batch = batches.return_batch(ctx, submitted.id, actor=county_admin, reason="身份证复印件缺2份")
    assert batch.status == BatchStatus.DRAFT and batch.return_reason == "身份证复印件缺2份"
    assert batches.submit_batch(ctx, batch.id, actor=clerk).status == BatchStatus.SUBMITTED


def test_clerk_cannot_receive_own_batch_and_other_county_sees_404(ctx, submitted, clerk):
    from app.services.errors import SelfApprovalError

    with pytest.raises(SelfApprovalError):
        batches.receive_batch(ctx, submitted.id, actor=clerk, counted=3)
    ctx.rollback()
    with pytest.raises(NotFoundError):
        batches.receive_batch(ctx, submitted.id, actor=user(ctx, "county2_admin"), counted=3)
    ctx.rollback()


def test_bank_summary_xlsx_and_chinese_pdf(ctx, submitted, county_admin, tmp_path):
    batches.receive_batch(ctx, submitted.id, actor=county_admin, counted=3)
    path = tmp_path / "summary.xlsx"
    assert batches.summary_xlsx(ctx, submitted, path, actor=county_admin) == 3
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == batches.SUMMARY_HEADERS
    assert rows[1][0] == 1 and rows[1][3] == "居民身份证" and len(str(rows[1][7])) == 10
    pdf = batches.summary_pdf(ctx, submitted, actor=county_admin)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_hand_over_bank_result_then_distribute(ctx, opening, county_admin, clerk, tmp_path):
    assert opening.status == BatchStatus.OPENING and opening.bank_by_id == county_admin.id
    batch_cards = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == opening.id)).all()
    assert {c.status for c in batch_cards} == {CardStatus.OPENING}
    assert all(c.district_name == "黄浦区总工会" for c in batch_cards)
    rows = bank_rows(ctx, opening)
    job = upload(ctx, opening, rows[:2] + [[rows[2][0], "110101199003074514", "6299", ""]], county_admin, tmp_path,
                 kind="card_bank_result", name="bank1.xlsx")
    assert (job.ok_rows, job.error_rows) == (2, 1)
    ctx.refresh(opening)
    assert opening.status == BatchStatus.OPENING  # one card still waits for the bank
    job = upload(ctx, opening, rows, county_admin, tmp_path, kind="card_bank_result", name="bank2.xlsx")
    ctx.refresh(opening)
    assert opening.status == BatchStatus.ISSUED
    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == opening.id)).all()
    assert {c.status for c in made} == {CardStatus.MADE} and all(c.serial for c in made)
    card = cards.distribute_card(ctx, made[0].id, actor=clerk)
    assert card.status == CardStatus.NORMAL and card.issued_at


def test_member_with_active_card_cannot_apply_again(ctx, issued, clerk, tmp_path):
    from app.services.service_cards import batches as b

    line = ctx.scalars(select(CardApplication).where(CardApplication.batch_id == issued.id)).first()
    again = b.create_batch(ctx, actor=clerk)
    job = upload(ctx, again, [application_row(name=line.name, id_number=line.id_number)], clerk, tmp_path,
                 name="again.xlsx")
    assert job.error_rows == 1 and job.ok_rows == 0


def test_wrong_transitions_refused(ctx, filled, county_admin):
    with pytest.raises(InvalidTransitionError):
        batches.receive_batch(ctx, filled.id, actor=county_admin, counted=3)
    ctx.rollback()
    with pytest.raises(InvalidTransitionError):
        batches.hand_over_to_bank(ctx, filled.id, actor=county_admin)
    ctx.rollback()


def test_union_summary_sheet_fills_the_batch_one_row_only(ctx, batch, clerk, tmp_path):
    header = ["*基层工会名称", "工会编号", "统一社会信用代码", "联系人", "联系电话", "地址", "会员人数"]
    job = upload(ctx, batch, [[batch.union_name, "10101", "", "赵敏", "021-63210000", "上海市黄浦区某路2号", "120"]],
                 clerk, tmp_path, kind="card_union_summary", header=header, name="union.xlsx")
    assert job.ok_rows == 1, job.message
    ctx.refresh(batch)
    assert (batch.contact, batch.declared_count, batch.address) == ("赵敏", 120, "上海市黄浦区某路2号")
    job = upload(ctx, batch, [["别的工会", "", "", "", "", "", "x"]], clerk, tmp_path, kind="card_union_summary",
                 header=header, name="bad.xlsx")
    assert job.error_rows == 1 and job.ok_rows == 0
