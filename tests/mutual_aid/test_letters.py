"""确认书: v1 at 到账确认 (未打印), the person list, the confirm checkbox gating the print, the PDF's
Chinese text (amounts in figures and 大写), 刷新 keeping old versions; 人员调入 keeping coverage."""
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.services.errors import DomainError, NotFoundError
from app.services.mutual_aid import letters, transfers
from app.storage import store
from models.mutual_aid import InsuredPerson, PersonStatus
from tests.factories import approved_member_unit, import_persons
from tests.mutual_aid.conftest import one_invoice, persons
from tests.shared.test_pdf import page_text


def test_payment_makes_version_one_unprinted(ctx, effective):
    letter = letters.current_letter(ctx, effective)
    assert letter.version == 1 and letter.printed is False and letter.list_confirmed_at is None


def test_the_letter_pdf_reads_the_unit_amounts_and_version(ctx, effective):
    letter = letters.current_letter(ctx, effective)
    attachment = letters.letter_file(ctx, effective.id, 1, actor=_handler(ctx, effective))
    data = store().read_bytes("attachments", attachment.stored_name)
    text = page_text(data)
    unit = effective.member_unit
    for expected in (unit.name, unit.uscc, effective.number, "第1版", "6800.00", "陆仟捌佰元整", "普通人数", "高危人数"):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(data))
    annex = page_text(data, 1)
    assert len(reader.pages) >= 2 and "附件：参保人员清单" in annex
    person = ctx.scalar(select(InsuredPerson).where(InsuredPerson.enrollment_id == effective.id))
    assert person.id_number_masked in annex and person.id_number not in annex
    assert letter.attachment_id == attachment.id


def _handler(ctx, enrollment):
    from models.security import AppUser

    return ctx.scalar(select(AppUser).where(AppUser.member_unit_id == enrollment.member_unit_id))


def test_printing_needs_the_confirmed_list(ctx, effective):
    handler = _handler(ctx, effective)
    with pytest.raises(DomainError, match="请先勾选「我已确认人员名单无误」"):
        letters.print_letter(ctx, effective.id, actor=handler, confirmed=False)
    attachment = letters.print_letter(ctx, effective.id, actor=handler, confirmed=True)
    letter = letters.current_letter(ctx, effective)
    assert letter.printed and letter.list_confirmed_by_id == handler.id and letter.first_printed_by_id == handler.id
    assert attachment.mime == "application/pdf"


def test_refresh_makes_a_new_unprinted_version_and_keeps_the_old(ctx, effective):
    handler = _handler(ctx, effective)
    letters.print_letter(ctx, effective.id, actor=handler, confirmed=True)
    effective.member_unit.name = "更名后的单位有限公司"
    ctx.commit()
    letter = letters.refresh_letter(ctx, effective.id, actor=handler)
    assert letter.version == 2 and not letter.printed and letter.list_confirmed_at is None
    assert [v.version for v in letters.letters_of(ctx, effective)] == [2, 1]
    new = store().read_bytes("attachments", letters.letter_file(ctx, effective.id, 2, actor=handler).stored_name)
    old = store().read_bytes("attachments", letters.letter_file(ctx, effective.id, 1, actor=handler).stored_name)
    assert "更名后的单位有限公司" in page_text(new) and "更名后的单位有限公司" not in page_text(old)


def test_the_person_list_is_searched_and_masked(ctx, effective):
    person = ctx.scalar(select(InsuredPerson).where(InsuredPerson.enrollment_id == effective.id))
    rows = list(letters.person_rows(ctx, effective, q=person.id_number[-6:]))
    assert [r[1] for r in rows] == [person.name] and rows[0][2] == person.id_number_masked
    assert len(list(letters.person_rows(ctx, effective))) == 100


def test_a_draft_has_no_letter(ctx, draft):
    with pytest.raises(DomainError, match="尚未生效"):
        letters.print_letter(ctx, draft.id, actor=_handler(ctx, draft), confirmed=True)


def test_transfer_in_keeps_the_coverage_dates(ctx, effective, plan, office, office_staff, finance, tmp_path):
    from app.services.mutual_aid import enrollment, invoicing

    _unit, handler_b = approved_member_unit(ctx, office, office_staff)
    target = enrollment.create_enrollment(ctx, actor=handler_b, plan_shares={plan.id: 2})
    import_persons(ctx, target, target.plans[0], persons(2), handler_b, tmp_path)
    enrollment.set_details(ctx, target.id, actor=handler_b, staff_count=5, female_staff_count=1, note="")
    enrollment.submit_enrollment(ctx, target.id, actor=handler_b)
    enrollment.review_enrollment(ctx, target.id, "approve", actor=office_staff)
    one_invoice(ctx, target, handler_b, 2, "120.00")
    invoicing.submit_invoices(ctx, target.id, actor=handler_b)
    invoicing.confirm_payment(ctx, target.id, actor=finance, amount="120.00", paid_on=target.created_at.date(),
                              reference="B3")
    person = ctx.scalar(select(InsuredPerson).where(InsuredPerson.enrollment_id == effective.id))
    with pytest.raises(DomainError, match="请填写调入原因"):
        transfers.transfer_in(ctx, person_id=person.id, to_enrollment_id=target.id, actor=office_staff, reason="")
    moved = transfers.transfer_in(ctx, person_id=person.id, to_enrollment_id=target.id, actor=office_staff,
                                  reason="工作调动")
    assert (moved.coverage_start, moved.coverage_end) == (person.coverage_start, person.coverage_end)
    assert moved.transferred_from_id == person.id and person.status == PersonStatus.TRANSFERRED_OUT
    with pytest.raises(DomainError, match="有效参保人"):
        transfers.transfer_in(ctx, person_id=person.id, to_enrollment_id=target.id, actor=office_staff, reason="再次")
    with pytest.raises(NotFoundError):
        transfers.transfer_in(ctx, person_id=moved.id, to_enrollment_id=effective.id, actor=handler_b, reason="越权")


def test_transfer_into_a_draft_is_refused(ctx, effective, plan, office, office_staff):
    from app.services.mutual_aid import enrollment

    _unit, handler_b = approved_member_unit(ctx, office, office_staff)
    draft = enrollment.create_enrollment(ctx, actor=handler_b, plan_shares={plan.id: 1})
    person = ctx.scalar(select(InsuredPerson).where(InsuredPerson.enrollment_id == effective.id))
    with pytest.raises(DomainError, match="须已生效"):
        transfers.transfer_in(ctx, person_id=person.id, to_enrollment_id=draft.id, actor=office_staff, reason="调动")
