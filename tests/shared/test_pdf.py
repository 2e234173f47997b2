"""Chinese PDFs: the text is embedded (read back from page 1), tables run over pages with their
header repeated, amounts read in capitals."""
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.pdf.render import Document, FontMissingError
from app.rmb import rmb_upper


def page_text(data: bytes, page: int = 0) -> str:
    """The page's text without blanks (pypdf reads fpdf2's embedded-CMap fonts with NULs between the
    characters; poppler's pdftotext reads them cleanly)."""
    return "".join(PdfReader(io.BytesIO(data)).pages[page].extract_text().replace("\x00", "").split())


def test_page_one_holds_the_chinese_text():
    doc = Document("参保确认书").heading("参保确认书").key_values([("单位名称", "上海黄浦职工互助示范有限公司"),
                                                         ("合计（大写）", rmb_upper("6800"))])
    text = page_text(doc.render())
    assert "参保确认书" in text and "上海黄浦职工互助示范有限公司" in text and "陆仟捌佰元整" in text


def test_a_long_table_repeats_its_header_on_every_page():
    rows = [[str(i), f"张{i}", "普通"] for i in range(1, 301)]
    data = Document("清单").table(["序号", "姓名", "人群类别"], rows, [20, 40, 30]).render()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 3
    last = page_text(data, len(reader.pages) - 1)
    assert "序号姓名人群类别" in last and "张300" in last
    assert "第1页/共" in page_text(data)


def test_a_missing_font_is_a_clear_error():
    with pytest.raises(FontMissingError, match="fonts-noto-cjk"):
        Document("x", font_path="/nonexistent.ttc").paragraph("字").render()


@pytest.mark.parametrize("amount, words", [
    ("6800", "陆仟捌佰元整"), ("6800.00", "陆仟捌佰元整"), ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("1005", "壹仟零伍元整"), ("1001000", "壹佰万零壹仟元整"), ("100010000", "壹亿零壹万元整"),
    ("8323.04", "捌仟叁佰贰拾叁元零肆分"), ("0.05", "伍分"), ("0", "零元整"), ("100000", "壹拾万元整"),
    ("5050", "伍仟零伍拾元整"), ("0.005", "壹分"),
])
def test_amounts_in_chinese_capitals(amount, words):
    assert rmb_upper(Decimal(amount)) == words


def test_negative_amounts_have_no_capitals():
    with pytest.raises(ValueError):
        rmb_upper("-1")
