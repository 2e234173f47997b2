"""A constant-memory reader for very large sheets.

calamine is the fast reader, but it holds the whole sheet (1M rows × 13 columns
≈ 1.2 GB of RSS). Above ``STREAM_ABOVE_BYTES`` of sheet XML we stream the
worksheet part out of the zip instead and pick cells with compiled regular
expressions: the part is machine-written XML of one known shape, DOCTYPE and
entities were refused by ``safety.check_xlsx``, and only the five predefined
entities and character references remain to unescape.
"""
from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Iterator

_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>(.*?)</row>)", re.S)
# the attribute order Excel, WPS, xlsxwriter and openpyxl write (r, s, t): one findall
# over a whole block yields row starts (empty first group) and cells
_TOKEN = re.compile(
    rb'<row\b[^>]*>|<c r="([A-Z]+)\d+"(?: s="\d+")?(?: t="(\w+)")?(?: [^>]*)?'
    rb'(?:/>|>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?(?:<v>([^<]*)</v>)?'
    rb'(?:<is><t(?: [^>]*)?>([^<]*)</t></is>|<is>(.*?)</is>)?</c>)', re.S)
_CELL = re.compile(rb'<c\b([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_REF = re.compile(rb'\br="([A-Z]+)\d+"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_V = re.compile(rb"<v>(.*?)</v>", re.S)
_T = re.compile(rb"<t\b[^>]*>(.*?)</t>", re.S)
_SI = re.compile(rb"<si>(.*?)</si>", re.S)
_RPH = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_SHEET = re.compile(rb'<sheet\b[^>]*?\br:id="([^"]+)"')
_REL = re.compile(rb"<Relationship\b([^>]*)/>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
CHUNK = 4 * 1024 * 1024
_COLUMNS: dict[bytes, int] = {}


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def first_sheet_path(archive: zipfile.ZipFile) -> str:
    workbook = archive.read("xl/workbook.xml")
    rid = _SHEET.search(workbook).group(1)
    for rel in _REL.finditer(archive.read("xl/_rels/workbook.xml.rels")):
        attrs = dict(_ATTR.findall(rel.group(1)))
        if attrs.get(b"Id") == rid:
            target = attrs[b"Target"].decode()
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    raise KeyError("first worksheet not found")


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    try:
        data = archive.read("xl/sharedStrings.xml")
    except KeyError:
        return []
    out = []
    for si in _SI.finditer(data):
        body = _RPH.sub(b"", si.group(1))
        out.append("".join(_text(t) for t in _T.findall(body)))
    return out


def _blocks(part) -> Iterator[bytes]:
    """Yield blocks of whole <row> elements, reading the part in chunks."""
    buffer = b""
    while True:
        chunk = part.read(CHUNK)
        buffer += chunk
        cut = buffer.rfind(b"</row>") + len(b"</row>") if chunk else len(buffer)
        if cut >= len(b"</row>") or not chunk:
            yield buffer[:cut]
            buffer = buffer[cut:]
        if not chunk:
            return


def _convert(kind: bytes, raw: bytes, inline: bytes, shared: list[str]):
    if kind == b"s":
        return shared[int(raw)] if raw else None
    if kind == b"inlineStr":
        return "".join(_text(t) for t in _T.findall(inline))
    if not raw:
        return None
    if kind in (b"str", b"e", b"d"):
        return _text(raw)
    if kind == b"b":
        return raw == b"1"
    return float(raw)


def _rows_fast(block: bytes, shared: list[str]) -> list[list] | None:
    """Rows of a block of whole rows with one findall; None if a cell is written otherwise."""
    tokens = _TOKEN.findall(block)
    if len(tokens) != block.count(b"<c ") + block.count(b"<row"):
        return None
    rows: list[list] = []
    row: list = []
    append = row.append
    for letters, kind, raw, plain, inline in tokens:
        if not letters:
            row = []
            append = row.append
            rows.append(row)
            continue
        index = _COLUMNS.get(letters)
        if index is None:
            index = _COLUMNS.setdefault(letters, _col_index(letters))
        if index > len(row):
            row.extend([None] * (index - len(row)))
        if kind == b"s":
            append(shared[int(raw)])
        elif kind == b"inlineStr" and not inline:
            text = plain.decode("utf-8")
            append(html.unescape(text) if "&" in text else text)
        elif not kind and raw:
            append(float(raw))
        else:
            append(_convert(kind or b"n", raw, inline, shared))
    return rows


def _row_generic(inner: bytes, shared: list[str]) -> list:
    row: list = []
    for cell in _CELL.finditer(inner):
        attrs, body = cell.group(1), cell.group(2) or b""
        ref = _REF.search(attrs)
        if ref:
            index = _col_index(ref.group(1))
            if index > len(row):
                row.extend([None] * (index - len(row)))
        kind = _TYPE.search(attrs)
        value = _V.search(body)
        inline = body if b"<is>" in body else b""
        row.append(_convert(kind.group(1) if kind else b"n", value.group(1) if value else b"", inline, shared))
    return row


def stream_rows(path) -> Iterator[list]:
    """Rows of the first worksheet as lists (str, float, bool or None), in order."""
    with zipfile.ZipFile(path) as archive:
        shared = _shared_strings(archive)
        with archive.open(first_sheet_path(archive)) as part:
            for block in _blocks(part):
                rows = _rows_fast(block, shared)
                if rows is None:
                    rows = [_row_generic(m.group(1) or b"", shared) for m in _ROW.finditer(block)]
                yield from rows
