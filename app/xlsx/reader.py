"""Reading the first sheet of a checked xlsx: calamine when it fits, streaming when huge."""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from python_calamine import CalamineWorkbook

from .safety import HostileFileError
from .stream import first_sheet_path, stream_rows

# calamine keeps the whole sheet in memory (~1.2 GB for 1M × 13 cells); above this
# much sheet XML the constant-memory streaming reader takes over
STREAM_ABOVE_BYTES = 150 * 1024 * 1024
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')
_DECLARED = re.compile(rb'<dimension\s+ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"', re.I)
SCAN_CHUNK = 4 * 1024 * 1024
COLUMN_SLACK = 10           # a user's own note columns beside the template's
CELL_BYTES = 48             # what calamine holds per cell of the sheet's range
DENSE_BUDGET = 64 * 1024 * 1024  # above this much range memory, a sparse sheet is streamed instead


def column_letters(index: int) -> str:
    """0 → A, 12 → M, 16383 → XFD."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _too_wide_pattern(columns: int) -> bytes:
    """A regex (bytes) matching column letters of an index at or beyond ``columns`` — only candidates:
    two-letter references are compared afterwards when the limit itself has two letters."""
    last = column_letters(columns - 1)
    if len(last) == 1:
        nxt = chr(ord(last) + 1)
        return rb"[A-Z]{2,}" + (b"|[" + nxt.encode() + b"-Z]" if last != "Z" else b"")
    return rb"[A-Z]{%d,}" % len(last)


@dataclass(frozen=True)
class SheetBounds:
    size: int                  # bytes of the first sheet's XML
    rows: int | None           # declared last row (dimension) or None
    sparse: bool               # the range is far larger than the cells written: stream it


def check_bounds(path, *, columns: int, max_rows: int, scan_up_to: int | None = None) -> SheetBounds:
    """Refuse a sheet whose declared (<dimension>) or actual extent exceeds ``columns`` (plus
    ``COLUMN_SLACK``) or ``max_rows`` data rows, scanning the worksheet XML in constant memory
    before any reader allocates for it; tell a sparse sheet (a lone cell at M1000000) apart.
    ``scan_up_to``: above this many bytes of sheet XML only the declared extent is checked (an
    upload request; the job scans the whole sheet before reading it).

    Raises:
        HostileFileError: the sheet is too wide or too long (Chinese message).
    """
    allowed_cols, allowed_rows = columns + COLUMN_SLACK, max_rows + 1  # + the header row
    wide_msg = f"表格列数超出模板（最多 {allowed_cols} 列），请使用模板填写后重新上传"
    tall_msg = f"表格行数超过上限（最多 {max_rows} 行数据），请拆分为多个文件分批导入"
    with zipfile.ZipFile(path) as archive:
        name = first_sheet_path(archive)
        size = archive.getinfo(name).file_size
        # the range calamine would hold below this many rows stays within DENSE_BUDGET (or the XML's own size)
        dense_rows = max((DENSE_BUDGET + 8 * size) // (CELL_BYTES * allowed_cols), 1)
        digits = min(len(str(allowed_rows)), len(str(dense_rows)))
        body = rb'r="(?:(' + _too_wide_pattern(allowed_cols) + rb')(\d+)|[A-Z]*(\d{%d,})")' % digits
        # machine-written XML separates attributes by one space (a literal prefix: fast); a block
        # using other whitespace before r= gets the slower general pattern
        fast, general = re.compile(b" " + body, re.I), re.compile(rb"\s" + body, re.I)
        declared_rows, last_row, tail = None, 0, b""
        with archive.open(name) as part:
            head = True
            while chunk := part.read(SCAN_CHUNK):
                block = tail + chunk
                if head:
                    head = False
                    match = _DECLARED.search(block[:16384])
                    if match:
                        first_col, first_row, end_col, end_row = match.groups()
                        end_col, end_row = (end_col or first_col).decode(), int(end_row or first_row)
                        if column_index(end_col) >= allowed_cols:
                            raise HostileFileError(wide_msg)
                        if end_row > allowed_rows:
                            raise HostileFileError(tall_msg)
                        declared_rows = end_row
                    if scan_up_to is not None and size > scan_up_to:
                        break
                odd = any(ws + b'r="' in block for ws in (b"\n", b"\t", b"\r"))
                too_tall = False
                for match in (general if odd else fast).finditer(block):
                    letters, wide_row, number = match.groups()
                    if letters is not None and column_index(letters.decode()) >= allowed_cols:
                        raise HostileFileError(wide_msg)
                    row = int(number or wide_row)
                    too_tall = too_tall or row > allowed_rows  # (a wide cell in this block is named first)
                    last_row = max(last_row, row)
                if too_tall:
                    raise HostileFileError(tall_msg)
                tail = block[-32:]  # a reference cut by the chunk boundary is seen whole in the next block
    sparse = last_row > dense_rows or (declared_rows or 0) > dense_rows
    return SheetBounds(size=size, rows=declared_rows, sparse=sparse)


def sheet_info(path) -> tuple[int, int | None]:
    """(uncompressed size of the first sheet's XML, row count from its dimension or None)."""
    with zipfile.ZipFile(path) as archive:
        name = first_sheet_path(archive)
        size = archive.getinfo(name).file_size
        with archive.open(name) as part:
            head = part.read(8192)
    match = _DIMENSION.search(head)
    return size, int(match.group(1)) if match else None


def is_huge(path) -> bool:
    """Whether the sheet is read by streaming (calamine would hold too much memory)."""
    return sheet_info(path)[0] > STREAM_ABOVE_BYTES


def read_rows(path, *, stream: bool | None = None) -> Iterator[list]:
    """Every row of the first sheet as a list of cell values (None for empty); ``stream`` forces
    the constant-memory reader (a sparse sheet), default: only for huge sheets."""
    if stream or (stream is None and is_huge(path)):
        yield from stream_rows(path)
        return
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    for row in sheet.iter_rows():
        if "" in row:
            row = [None if cell == "" else cell for cell in row]
        yield row
