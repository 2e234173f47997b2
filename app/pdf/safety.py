"""Uploaded PDFs are checked before they are kept: the magic, the size, not encrypted, and no
active or hidden content (JavaScript, open / additional actions, launch actions, embedded files,
rich media, XFA forms). The whole object graph is walked (pypdf decodes object streams and
``#xx``-escaped names), not just the raw bytes, which compressed object streams would hide."""
from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

FORBIDDEN_KEYS = {"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
                  "/RichMedia", "/XFA", "/SubmitForm", "/ImportData", "/GoToE"}
MAX_OBJECTS = 200_000  # a hostile file cannot make the walk endless


class PdfRefusedError(ValueError):
    """The file is not a PDF we keep; ``str(err)`` is the Chinese reason."""


def check_pdf(data: bytes, *, max_bytes: int, max_pages: int = 500) -> int:
    """Check one uploaded PDF; returns its page count.

    Raises:
        PdfRefusedError: too large, not a PDF, encrypted, damaged, or with active content.
    """
    if len(data) > max_bytes:
        raise PdfRefusedError(f"PDF 文件不能超过 {max_bytes // (1024 * 1024)} MB")
    if not data.lstrip()[:5] == b"%PDF-":
        raise PdfRefusedError("文件不是有效的 PDF")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfRefusedError("不接受加密或设有密码的 PDF")
        pages = len(reader.pages)
        _walk(reader.trailer)
    except PdfRefusedError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        raise PdfRefusedError("PDF 文件已损坏或无法读取") from None
    if pages == 0 or pages > max_pages:
        raise PdfRefusedError(f"PDF 页数须在 1 至 {max_pages} 页之间")
    return pages


def _walk(root) -> None:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise PdfRefusedError("PDF 结构过于复杂，无法检查")
        if isinstance(node, DictionaryObject):
            bad = FORBIDDEN_KEYS & set(node.keys())
            if bad or node.get("/S") in ("/JavaScript", "/Launch", "/ImportData", "/SubmitForm"):
                raise PdfRefusedError("PDF 含有脚本、自动动作或嵌入文件，出于安全考虑不予接收")
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
