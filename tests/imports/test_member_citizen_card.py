"""市民卡 in the member import (S000:L20): the template's 市民卡号 / 是否持有市民卡 columns, 是/否 parsed,
a bad value a Chinese reason on its row, and files of the older template (without them) still import
and leave the cards as they are."""
import io

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.services import imports
from models.imports import JobError, JobStatus
from models.members import Member
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row, submit_member_file

HEADER = MEMBER_HEADER[:-1] + ["市民卡号", "是否持有市民卡", "备注"]


def _row(org, card="", has="", **over):
    row = member_row(org, **over)
    return row[:-1] + [card, has, row[-1]]


def _run(ctx, path):
    job = submit_member_file(ctx, path)
    return imports.run_import(ctx, job.id)


def _member(ctx, row):
    ctx.expire_all()
    return ctx.scalar(select(Member).where(Member.id_number == row[2]))


def test_template_has_the_citizen_card_columns(client_as):
    response = client_as("base_admin").get("/datajobview/template/members")
    header = CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_index(0).to_python()[0]
    assert "市民卡号" in header and "是否持有市民卡" in header
    assert header.index("是否持有市民卡") == header.index("市民卡号") + 1 and header[-1] == "备注"


def test_import_with_the_columns_sets_number_and_flag(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 3)
    numbered, holder, without = (_row(org, card="3306 0012 3456 7890"), _row(org, has="是"),
                                 _row(org, card="", has="否"))
    job = _run(ctx, make_xlsx(tmp_path / "市民卡.xlsx", [HEADER, numbered, holder, without]))
    assert (job.status, job.created_rows, job.error_rows) == (JobStatus.SUCCEEDED, 3, 0), job.message
    first, second, third = (_member(ctx, r) for r in (numbered, holder, without))
    assert (first.citizen_card_no, first.has_citizen_card) == ("3306001234567890", True)
    assert first.citizen_card_label == "已登记（尾号7890）"
    assert (second.citizen_card_no, second.has_citizen_card, second.citizen_card_label) == (None, True, "有卡")
    assert (third.has_citizen_card, third.holds_citizen_card) == (False, False)
    # the same people again, now one without a card: updated, not doubled
    third_again = without[:-3] + ["", "是", ""]
    again = _run(ctx, make_xlsx(tmp_path / "市民卡2.xlsx", [HEADER, numbered, third_again]))
    assert (again.created_rows, again.updated_rows) == (0, 1)
    assert _member(ctx, without).has_citizen_card is True


def test_bad_yes_no_value_fails_that_row_in_chinese(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 3)
    good, bad, contradicting, bad_number = (_row(org, has="是"), _row(org, has="有"),
                                            _row(org, card="330600123456", has="否"), _row(org, card="12ab"))
    job = _run(ctx, make_xlsx(tmp_path / "坏值.xlsx", [HEADER, good, bad, contradicting, bad_number]))
    assert (job.status, job.ok_rows, job.error_rows) == (JobStatus.PARTIAL, 1, 3)
    reasons = [e.reasons for e in ctx.scalars(select(JobError).where(JobError.job_id == job.id)
                                                .order_by(JobError.row_no))]
    assert reasons[0] == {"has_citizen_card": "「有」不是可选值，请填写“是”或“否”"}
    assert reasons[1] == {"has_citizen_card": "已填写市民卡号，「是否持有市民卡」不能为“否”"}
    assert reasons[2] == {"citizen_card_no": "市民卡号须为 6 至 32 位数字或字母"}
    assert all(_member(ctx, r) is None for r in (bad, contradicting, bad_number))
    assert _member(ctx, good).has_citizen_card is True


def test_old_file_without_the_columns_imports_and_keeps_the_cards(ctx, tmp_path):
    org = base_of(ctx, county(ctx), 3)
    carded = _row(org, card="330600999999", has="是")
    assert _run(ctx, make_xlsx(tmp_path / "新模板.xlsx", [HEADER, carded])).created_rows == 1
    old_rows = [member_row(org), carded[:-3] + [""]]      # the older 13-column template
    old_rows[1][7] = "班组长"
    job = _run(ctx, make_xlsx(tmp_path / "旧模板.xlsx", [MEMBER_HEADER, *old_rows]))
    assert (job.status, job.created_rows, job.updated_rows, job.error_rows) == (JobStatus.SUCCEEDED, 1, 1, 0)
    new = _member(ctx, old_rows[0])
    assert (new.citizen_card_no, new.has_citizen_card) == (None, False)
    kept = _member(ctx, carded)
    assert (kept.position, kept.citizen_card_no, kept.has_citizen_card) == ("班组长", "330600999999", True)
