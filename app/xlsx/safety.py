"""Refuse hostile uploads before any parser sees them.

Checks, in order: size, zip magic, a sane central directory (entry count and
declared uncompressed size: zip bombs), ``[Content_Types].xml`` and a worksheet
(a real xlsx), no macros (``vbaProject.bin``), and no DOCTYPE/ENTITY in any XML
part (entity expansion / XXE).
"""
from __future__ import annotations

import zipfile
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
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise HostileFileError("文件包含宏（VBA），已拒绝；请另存为不含宏的 .xlsx")
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                with archive.open(info) as part:
                    head = part.read(4096).upper()
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise HostileFileError("文件包含不允许的 XML 声明（DOCTYPE/ENTITY），已拒绝")
