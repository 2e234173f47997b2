"""Hand-written xlsx files (the XML typed out, zipped): what an attacker uploads."""
from __future__ import annotations

import zipfile
from xml.sax.saxutils import escape

from tests.factories import MEMBER_HEADER

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
                 '<Override PartName="/xl/worksheets/sheet1.xml" '
                 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                 '</Types>')
MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _col(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def sheet_xml(rows: list[list], *, extra_cell: str | None = None, dimension: str | None = None) -> str:
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(f'<c r="{_col(c)}{r}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>'
                        for c, v in enumerate(row) if v not in (None, ""))
        body.append(f'<row r="{r}">{cells}</row>')
    if extra_cell:
        number = "".join(ch for ch in extra_cell if ch.isdigit())
        body.append(f'<row r="{number}"><c r="{extra_cell}" t="inlineStr"><is><t>x</t></is></c></row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'{dim}<sheetData>{"".join(body)}</sheetData></worksheet>')


def write_xlsx(path, rows=None, *, extra_cell=None, dimension=None, parts: dict | None = None,
               content_types: str | None = None, sheet: str | None = None):
    """A minimal workbook: the member header (and ``rows``), plus one lone cell far away."""
    all_parts = {
        "[Content_Types].xml": content_types or CONTENT_TYPES.format(main=MAIN),
        "_rels/.rels": RELS, "xl/workbook.xml": WORKBOOK, "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet or sheet_xml([MEMBER_HEADER, *(rows or [])], extra_cell=extra_cell,
                                                        dimension=dimension),
        **(parts or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in all_parts.items():
            archive.writestr(name, data)
    return str(path)


def corrupt_crc(path, part: str = "xl/worksheets/sheet1.xml"):
    """Flip one byte of ``part``'s compressed data: the zip opens, reading the part fails its CRC."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    data = bytearray(open(path, "rb").read())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    stored = zipfile.ZipFile(path).getinfo(part).compress_type == zipfile.ZIP_STORED
    data[start + (info.compress_size // 2 if stored else info.compress_size - 6)] ^= 0x01
    open(path, "wb").write(bytes(data))
    return str(path)
