"""Chinese PDF documents (I-5) with fpdf2 and Debian's Noto Sans CJK (fonts-noto-cjk).

Why fpdf2: it embeds a subset of the CFF-outline ``.ttc`` that Debian ships (reportlab's
``TTFont`` refuses CFF outlines, and its ``STSong-Light`` CID font is not embedded, so the text
would look different on every reader). Loading a whole CJK font costs seconds, so a document
is described first and drawn at the end: the font is then loaded for the characters the
document uses only (``unicode_range``), which makes a 100-page annex render in about a second.

Usage::

    doc = Document("参保确认书")
    doc.heading("参保确认书").key_values([("单位名称", unit.name), ...]).table(headers, rows, widths)
    data = doc.render()
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEFAULT_FONT_INDEX = 2  # the collection's "Noto Sans CJK SC" (simplified Chinese glyph forms)
_ALWAYS = set(string.printable) | set("第页共，。：；（）、—·／-…")
MARGIN = 15


class FontMissingError(RuntimeError):
    """The CJK font is not installed (apt-get install fonts-noto-cjk)."""


@dataclass
class Document:
    title: str
    font_path: str = DEFAULT_FONT
    font_index: int = DEFAULT_FONT_INDEX
    footer: str = ""
    _ops: list = field(default_factory=list)

    # --- describing --------------------------------------------------------------
    def heading(self, text: str, size: float = 18) -> Document:
        self._ops.append(("heading", str(text), size))
        return self

    def paragraph(self, text: str, size: float = 11) -> Document:
        self._ops.append(("paragraph", str(text), size))
        return self

    def key_values(self, pairs: list[tuple[str, object]], size: float = 11, label_width: float = 45) -> Document:
        self._ops.append(("key_values", [(str(k), "" if v is None else str(v)) for k, v in pairs], size,
                          label_width))
        return self

    def table(self, headers: list[str], rows, widths: list[float], size: float = 9,
              aligns: str | None = None) -> Document:
        """A ruled table, the header repeated on every page; ``aligns`` one of L/C/R per column."""
        self._ops.append(("table", [str(h) for h in headers], [["" if c is None else str(c) for c in r] for r in rows],
                          widths, size, aligns or "L" * len(headers)))
        return self

    def space(self, height: float = 4) -> Document:
        self._ops.append(("space", height))
        return self

    def page_break(self) -> Document:
        self._ops.append(("page_break",))
        return self

    def box(self, label: str, height: float = 30) -> Document:
        """An empty framed box with a caption (e.g. 单位盖章)."""
        self._ops.append(("box", str(label), height))
        return self

    # --- drawing -------------------------------------------------------------------
    def _characters(self) -> set[int]:
        chars = set(self.title) | set(self.footer) | _ALWAYS
        for op in self._ops:
            for part in op[1:]:
                if isinstance(part, str):
                    chars.update(part)
                elif isinstance(part, list):
                    for item in part:
                        for value in (item if isinstance(item, (list, tuple)) else [item]):
                            if isinstance(value, str):
                                chars.update(value)
        return {ord(c) for c in chars}

    def render(self) -> bytes:
        """The PDF as bytes.

        Raises:
            FontMissingError: the CJK font file is not installed.
        """
        from fpdf import FPDF

        if not Path(self.font_path).is_file():
            raise FontMissingError(f"缺少中文字体 {self.font_path}（apt-get install fonts-noto-cjk）")
        footer = self.footer

        class _Pdf(FPDF):
            def footer(pdf):  # noqa: N805 - fpdf2's hook
                pdf.set_y(-12)
                pdf.set_font("cjk", size=8)
                pdf.cell(0, 6, f"{footer}  第 {pdf.page_no()} 页 / 共 {{nb}} 页".strip(), align="C")

        pdf = _Pdf(format="A4")
        pdf.set_title(self.title)
        pdf.set_creator("工会服务管理后台")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_font("cjk", fname=self.font_path, collection_font_number=self.font_index,
                     unicode_range=sorted(self._characters()))
        pdf.add_page()
        for op in self._ops:
            getattr(self, f"_draw_{op[0]}")(pdf, *op[1:])
        return bytes(pdf.output())

    @staticmethod
    def _draw_heading(pdf, text, size):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(0, size * 0.6, text, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    @staticmethod
    def _draw_paragraph(pdf, text, size):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    @staticmethod
    def _draw_key_values(pdf, pairs, size, label_width):
        pdf.set_font("cjk", size=size)
        height = size * 0.62
        width = pdf.w - pdf.l_margin - pdf.r_margin
        for key, value in pairs:
            if pdf.will_page_break(height):
                pdf.add_page()
            y = pdf.get_y()
            pdf.set_x(pdf.l_margin + label_width)
            pdf.multi_cell(width - label_width, height, value, border=1, new_x="LMARGIN", new_y="NEXT")
            bottom = pdf.get_y()
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(label_width, bottom - y, key, border=1, fill=False)
            pdf.set_xy(pdf.l_margin, bottom)
        pdf.ln(2)

    @staticmethod
    def _draw_table(pdf, headers, rows, widths, size, aligns):
        pdf.set_font("cjk", size=size)
        height = size * 0.6
        left = pdf.l_margin
        right = left + sum(widths)
        bottom_limit = pdf.h - pdf.b_margin

        def header():
            top = pdf.get_y()
            pdf.set_fill_color(235, 235, 235)
            pdf.rect(left, top, right - left, height, style="DF")
            pdf.text(left + 1, top + height * 0.72, "")  # puts the font on a new page before the raw rows
            _row(headers, top, "C" * len(headers))
            pdf.set_y(top + height)

        def _row(values, top, row_aligns):
            # One text object per row (fpdf2's text() per cell costs ~10x more on a 5,000-row annex):
            # the cells are encoded by the font's own subset map and placed with relative moves.
            font = pdf.current_font
            scale = pdf.font_size_pt / 1000 / pdf.k
            baseline = (pdf.h - (top + height * 0.72)) * pdf.k
            x, last_x, parts = left, 0.0, []
            for value, cell_width, align in zip(values, widths, row_aligns):
                text = _fit(font, scale, value, cell_width - 2)
                width = _width(font, scale, text)
                tx = x + cell_width - 1 - width if align == "R" else x + (cell_width - width) / 2 if align == "C" \
                    else x + 1
                if text:
                    parts.append(f"{(tx - last_x) * pdf.k:.2f} 0 Td {font.encode_text(text)}")
                    last_x = tx
                x += cell_width
            if parts:  # in the text colour (a raw text object would take the header's grey fill)
                pdf._out(f"q {pdf.text_color.serialize().lower()} BT 0 {baseline:.2f} Td " + " ".join(parts) + " ET Q")

        def verticals(top, bottom):
            x = left
            for cell_width in [0, *widths]:
                x += cell_width
                pdf.line(x, top, x, bottom)

        if pdf.get_y() + 2 * height > bottom_limit:
            pdf.add_page()
        block_top = pdf.get_y()
        header()
        for values in rows:
            top = pdf.get_y()
            if top + height > bottom_limit:
                verticals(block_top, top)
                pdf.add_page()
                block_top = pdf.get_y()
                header()
                top = pdf.get_y()
            _row(values, top, aligns)
            pdf.line(left, top + height, right, top + height)
            pdf.set_y(top + height)
        verticals(block_top, pdf.get_y())
        pdf.ln(2)

    @staticmethod
    def _draw_space(pdf, height):
        pdf.ln(height)

    @staticmethod
    def _draw_page_break(pdf):
        pdf.add_page()

    @staticmethod
    def _draw_box(pdf, label, height):
        if pdf.will_page_break(height + 8):
            pdf.add_page()
        pdf.set_font("cjk", size=11)
        x, y = pdf.w - pdf.r_margin - 70, pdf.get_y() + 2
        pdf.rect(x, y, 70, height)
        pdf.text(x + 3, y + 7, label)
        pdf.set_y(y + height + 2)


def _width(font, scale: float, text: str) -> float:
    widths = font.cw
    return sum(widths[ord(c)] for c in text) * scale


def _fit(font, scale: float, text: str, width: float) -> str:
    """The text, cut with an ellipsis when it does not fit the cell."""
    if _width(font, scale, text) <= width:
        return text
    while text and _width(font, scale, text + "…") > width:
        text = text[:-1]
    return text + "…"
