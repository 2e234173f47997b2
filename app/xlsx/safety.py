"""Refuse hostile uploads before any parser sees them.

Checks, in order: size, zip magic, a sane central directory (entry count and
declared uncompressed size: zip bombs), ``[Content_Types].xml`` and a worksheet
(a real xlsx), no macros (a ``vbaProject`` part, or a macro-enabled / VBA content type in
``[Content_Types].xml``), and no DOCTYPE/ENTITY anywhere in any XML part, whatever the case of
its name or of the declaration (entity expansion / XXE); every XML part is read to its end,
which also refuses a bad CRC.
"""
from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

MAX_ENTRIES = 2_000
MAX_UNCOMPRESSED = 1_500 * 1024 * 1024   # 1.5 GB: a 1M-row sheet is ~700 MB of XML
MAX_RATIO = 200                          # real sheets compress ~10-30x; bombs 1000x+


class HostileFileError(ValueError):
    """The upload is refused; ``str(err)`` is the Chinese message for the user."""


def check_xlsx(path: str | Path, *, max_bytes: int) -> None:
    """Raise HostileFileError unless ``path`` looks like a plain, sane xlsx."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise HostileFileError(f"文件过大（{size / 1048576:.1f} MB），上限为 {max_bytes / 1048576:.0f} MB")
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise HostileFileError("文件不是 Excel 2007+ 的 .xlsx 格式（请勿上传 .xls、.csv 或改了扩展名的文件）")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise HostileFileError("文件已损坏，无法作为 .xlsx 打开") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise HostileFileError("文件结构异常（压缩包条目过多），已拒绝")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED or total > max(size, 1) * MAX_RATIO:
            raise HostileFileError("文件解压后体积异常（疑似压缩炸弹），已拒绝")
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
            raise HostileFileError("文件不是有效的 .xlsx 工作簿")
        try:
            content_types = archive.read("[Content_Types].xml")
            if any("vbaproject" in n.lower() for n in names) or _MACRO.search(content_types):
                raise HostileFileError("文件包含宏（VBA），已拒绝；请另存为不含宏的 .xlsx")
            for info in infos:
                if not info.is_dir() and not info.filename.lower().endswith(_PICTURES):
                    _scan_xml_part(archive, info)
        except (zipfile.BadZipFile, EOFError, zlib.error):  # a bad CRC, a truncated member
            raise HostileFileError("文件已损坏（压缩数据校验失败），无法作为 .xlsx 打开；"
                                   "请用 Excel 打开后另存为 .xlsx 再上传") from None


# every other part is scanned as XML whatever it is called (a worksheet may be named sheet1.XML or .txt)
_PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".tif", ".tiff")
_WIDE_ENCODINGS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")  # UTF-16 would hide a declaration
# macro-enabled workbooks declare it in their content types, whatever the parts are called
_MACRO = re.compile(rb"vbaProject|macroEnabled|vnd\.ms-office\.activeX|vnd\.ms-excel\.(?:intl)?macrosheet", re.I)
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_SCAN_CHUNK = 1024 * 1024


def _scan_xml_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """The WHOLE part, case-insensitively, in chunks (overlapping, so a declaration cut by a
    chunk boundary is still seen); reading it to the end also checks its CRC."""
    tail, first = b"", True
    with archive.open(info) as part:
        while chunk := part.read(_SCAN_CHUNK):
            if first and chunk.startswith(_WIDE_ENCODINGS):
                raise HostileFileError("文件中的 XML 使用了不支持的编码（UTF-16），请用 Excel 另存为 .xlsx 后再上传")
            first = False
            block = tail + chunk
            if _DECLARATION.search(block):
                raise HostileFileError("文件包含不允许的 XML 声明（DOCTYPE/ENTITY），已拒绝")
            tail = block[-16:]
