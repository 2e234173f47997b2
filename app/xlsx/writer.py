"""Writing xlsx with xlsxwriter: import templates, result files, streamed exports.

Every text cell written from data goes through :func:`neutralize`, so a value
like ``=HYPERLINK(...)`` is shown, never evaluated (formula injection).
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value and value[0] in _DANGEROUS:
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    """One column of an import template / result file."""

    key: str
    title: str
    required: bool = False
    choices: Sequence[str] = ()
    text: bool = False           # stored as text (ID numbers, phones: never numbers)
    width: int = 14
    note: str = ""


@dataclass
class SheetSpec:
    title: str
    columns: Sequence[Column]
    instructions: Sequence[str] = field(default_factory=list)


_SHEET_NAME_FORBIDDEN = str.maketrans({c: "－" for c in "[]:*?/\\"})


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\`` (a list title such as
    「注册/审核」 reads 「注册－审核」), never blank."""
    return (str(title).translate(_SHEET_NAME_FORBIDDEN).strip("'")[:31]) or "Sheet1"


def header_title(column: Column) -> str:
    return f"*{column.title}" if column.required else column.title


def write_template(spec: SheetSpec, rows: int = 5000) -> bytes:
    """The download template: marked header, text columns, dropdowns, an instructions sheet."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name(spec.title))
    required = book.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1})
    optional = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    as_text = book.add_format({"num_format": "@"})
    for index, column in enumerate(spec.columns):
        sheet.write_string(0, index, header_title(column), required if column.required else optional)
        sheet.set_column(index, index, column.width, as_text if column.text else None)
        if column.choices:
            sheet.data_validation(1, index, rows, index, {
                "validate": "list", "source": list(column.choices),
                "error_title": "输入有误", "error_message": f"请从下拉列表中选择{column.title}",
            })
        if column.note:
            sheet.write_comment(0, index, column.note)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 100)
    bold = book.add_format({"bold": True})
    notes.write_string(0, 0, f"{spec.title} 填写说明", bold)
    lines = [*spec.instructions, "带 * 的列为必填项（表头为橙色）。", "证件号码、手机号列已设为文本格式，请勿改为数字格式。",
             "请勿修改表头、不要合并单元格；第一个工作表之外的内容不会导入。"]
    for row, line in enumerate(lines, start=2):
        notes.write_string(row, 0, line)
    for row, column in enumerate(spec.columns, start=len(lines) + 3):
        choices = f"（可选：{'、'.join(column.choices)}）" if column.choices else ""
        notes.write_string(row, 0, f"{header_title(column)}：{column.note or ''}{choices}")
    book.close()
    return buffer.getvalue()


class StreamingSheet:
    """Constant-memory writer: header, then rows one by one; text columns stay text."""

    def __init__(self, path, title: str, headers: Sequence[str]):
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                                    "strings_to_formulas": False, "strings_to_urls": False})
        self.sheet = self.book.add_worksheet(sheet_name(title))
        self.header = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.error = self.book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.money = self.book.add_format({"num_format": "0.00"})
        for index, title_ in enumerate(headers):
            self.sheet.write_string(0, index, title_, self.header)
            self.sheet.set_column(index, index, 16)
        self.row = 1

    def write(self, values: Sequence, marked: Iterable[int] = ()) -> None:
        marked = set(marked)
        write_string, write_number, row = self.sheet.write_string, self.sheet.write_number, self.row
        for col, value in enumerate(values):
            fmt = self.error if col in marked else None
            if value is None or value == "":
                if fmt is not None:
                    self.sheet.write_blank(row, col, None, fmt)
            elif isinstance(value, str):
                write_string(row, col, neutralize(value), fmt)
            elif isinstance(value, bool):
                write_string(row, col, "是" if value else "否", fmt)
            elif isinstance(value, Decimal):  # money: a number Excel can sum, shown in fen
                write_number(row, col, float(value), fmt or self.money)
            elif isinstance(value, (int, float)):
                write_number(row, col, value, fmt)
            elif isinstance(value, datetime):
                self.sheet.write_datetime(row, col, value.replace(tzinfo=None), fmt or self.datetime)
            elif isinstance(value, date):
                self.sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt or self.date)
            else:
                write_string(row, col, neutralize(str(value)), fmt)
        self.row += 1

    def close(self) -> None:
        self.book.close()
