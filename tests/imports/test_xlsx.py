"""Pure xlsx parts: hostile-file checks, cell normalization, both readers, writers."""
import io
import zipfile
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from app.services.member_import import SHEET
from app.xlsx import reader
from app.xlsx.cells import CellError, date_value, id_text, text
from app.xlsx.safety import HostileFileError, check_xlsx
from app.xlsx.stream import stream_rows
from app.xlsx.writer import StreamingSheet, neutralize, write_template
from tests.factories import make_xlsx

MB = 1024 * 1024


def _zip(path, parts: dict):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_check_accepts_a_real_xlsx(tmp_path):
    check_xlsx(make_xlsx(tmp_path / "ok.xlsx", [["a"], ["b"]]), max_bytes=MB)


@pytest.mark.parametrize("name, build, message", [
    ("big", lambda p: p.write_bytes(b"PK\x03\x04" + b"0" * (2 * MB)), "文件过大"),
    ("csv", lambda p: p.write_text("姓名,证件号码\n张三,1\n"), "不是 Excel 2007+"),
    ("xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0" + b"0" * 100), "不是 Excel 2007+"),
    ("zip", lambda p: _zip(p, {"a.txt": "hello"}), "不是有效的 .xlsx"),
    ("bomb", lambda p: _zip(p, {"[Content_Types].xml": "<x/>", "xl/worksheets/sheet1.xml": "0" * (50 * MB)}), "压缩炸弹"),
    ("macro", lambda p: _zip(p, {"[Content_Types].xml": "<x/>", "xl/worksheets/sheet1.xml": "<x/>",
                                  "xl/vbaProject.bin": "x"}), "宏"),
    ("xxe", lambda p: _zip(p, {"[Content_Types].xml": "<x/>", "xl/worksheets/sheet1.xml":
                               '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'}),
     "DOCTYPE"),
])
def test_check_refuses_hostile_files(tmp_path, name, build, message):
    path = tmp_path / f"{name}.xlsx"
    build(path)
    with pytest.raises(HostileFileError, match=message):
        check_xlsx(path, max_bytes=MB)


def test_cells_normalize_fullwidth_blanks_x_and_numbers():
    assert text(" 张三\u3000") == "张三"
    assert text("１３８００１３８０００") == "13800138000"
    assert text(13800138000.0) == "13800138000"
    assert id_text("11010519491231002x ") == "11010519491231002X"
    with pytest.raises(CellError, match="存成了数字"):
        id_text(1.10105194912310e17)


@pytest.mark.parametrize("value, expected", [
    (43831.0, date(2020, 1, 1)), ("2020-01-02", date(2020, 1, 2)), ("2020/1/2", date(2020, 1, 2)),
    ("2020年1月2日", date(2020, 1, 2)), ("20200102", date(2020, 1, 2)), ("", None), (None, None),
])
def test_date_value_reads_serials_and_text(value, expected):
    assert date_value(value) == expected


def test_date_value_rejects_impossible():
    with pytest.raises(CellError, match="不存在"):
        date_value("2021-02-30")
    with pytest.raises(CellError, match="不是有效日期"):
        date_value("明天")


def test_streaming_reader_matches_calamine(tmp_path):
    rows = [["姓名", "号码", "金额", "空"], ["张&三", "11010519491231002X", 12.5, None], [None, "<b>", 3.0, "=1+1"],
            ["李四", None, None, None]]
    path = make_xlsx(tmp_path / "r.xlsx", rows)
    calamine = [[None if c == "" else c for c in r] for r in CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()]
    streamed = [r + [None] * (4 - len(r)) for r in stream_rows(path)]
    assert streamed == calamine
    assert streamed[1] == ["张&三", "11010519491231002X", 12.5, None]


def test_reader_switches_to_streaming_for_huge_sheets(tmp_path, monkeypatch):
    path = make_xlsx(tmp_path / "r.xlsx", [["a", "b"], ["1", 2.0]])
    monkeypatch.setattr(reader, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(reader, "CalamineWorkbook", None)  # would fail if used
    assert list(reader.read_rows(path)) == [["a", "b"], ["1", 2.0]]


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_neutralize_formula_injection(value):
    assert neutralize(value) == "'" + value
    assert neutralize("张三") == "张三" and neutralize(5) == 5


def test_streaming_sheet_writes_neutralized_text(tmp_path):
    sheet = StreamingSheet(tmp_path / "o.xlsx", "导出", ["a", "b"])
    sheet.write(["=1+1", "11010519491231002X"])
    sheet.close()
    rows = CalamineWorkbook.from_path(str(tmp_path / "o.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[1] == ["'=1+1", "11010519491231002X"]


def test_member_template_has_marks_dropdowns_text_columns_and_instructions(tmp_path):
    data = write_template(SHEET)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["会员信息采集表", "填写说明"]
    header = book.get_sheet_by_index(0).to_python()[0]
    assert header[:3] == ["*姓名", "证件类型", "*证件号码"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert sheet.count("<dataValidation ") >= 4 and "居民身份证" in sheet and "在会" in sheet and '"是,否"' in sheet
    assert 'formatCode="@"' in styles or 'numFmtId="49"' in styles
    instructions = " ".join(str(c) for r in book.get_sheet_by_index(1).to_python() for c in r)
    assert "必填" in instructions and "证件号码" in instructions


def test_sheet_names_excel_refuses_are_made_acceptable(tmp_path):
    from python_calamine import CalamineWorkbook

    from app.xlsx.writer import StreamingSheet, sheet_name

    assert sheet_name("注册/审核") == "注册－审核" and len(sheet_name("长" * 40)) == 31
    sheet = StreamingSheet(tmp_path / "x.xlsx", "注册/审核[1]:*?", ["a"])
    sheet.write(["b"])
    sheet.close()
    assert CalamineWorkbook.from_path(str(tmp_path / "x.xlsx")).sheet_names == ["注册－审核－1－－－－"]
