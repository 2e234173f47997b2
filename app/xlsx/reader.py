"""Reading the first sheet of a checked xlsx: calamine when it fits, streaming when huge."""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator

from python_calamine import CalamineWorkbook

from .stream import first_sheet_path, stream_rows

# calamine keeps the whole sheet in memory (~1.2 GB for 1M × 13 cells); above this
# much sheet XML the constant-memory streaming reader takes over
STREAM_ABOVE_BYTES = 150 * 1024 * 1024
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


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


def read_rows(path) -> Iterator[list]:
    """Every row of the first sheet as a list of cell values (None for empty)."""
    if is_huge(path):
        yield from stream_rows(path)
        return
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    for row in sheet.iter_rows():
        if "" in row:
            row = [None if cell == "" else cell for cell in row]
        yield row
