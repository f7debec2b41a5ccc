"""Text engines for PDF pages: what each gives, and whether it gave text or glyph codes.

Each engine turns one page into a :class:`PageContent`: its characters (:class:`~retrieval.intake.pdf_layout.Char`,
in content-stream order, y from the top of the page), its horizontal rules and box edges, and its
vertical rules. :mod:`retrieval.intake.pdf` reads every page with **pdfminer.six** as pdfplumber
places it (:func:`miner_page`: the same characters as ``pdfplumber.Page.chars``, without building a
dictionary per character) and, when a page's text is glyph codes, reads that page again with
**pypdfium2** (PDFium, Chrome's PDF library), keeping whichever has fewer glyph codes; the
comparison that led there (poppler's ``pdftotext`` included) is in ``docs/intake.md``.

*Glyph codes* are characters a text engine could not map to Unicode: pdfminer writes them
``(cid:54)``; PDFium flags them (``FPDFText_HasUnicodeMapError``) and returns the raw code, often
a control character; both pass through private-use characters (U+E000–U+F8FF), which symbol fonts
(Wingdings, Symbol) use for bullets and arrows. :func:`glyph_codes` counts them; a private-use
character standing alone before text is a bullet, not lost text (see :func:`retrieval.intake.pdf_layout.is_bullet`).
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field

from .pdf_layout import Char, Rule

_CID = re.compile(r"^\(cid:\d+\)$")
#: A box covering more than this share of the page is a background, not a frame.
_BACKGROUND = 0.6


@dataclass
class PageContent:
    """One page as an engine read it (points; y grows downwards from the top edge)."""

    chars: list[Char] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    vrules: list[tuple[float, float, float]] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    engine: str = "pdfplumber"


def is_glyph_code(text: str) -> bool:
    """True for a character no engine mapped to Unicode: ``(cid:N)``, a control or private-use character, U+FFFD/U+FFFE."""
    if _CID.match(text):
        return True
    return len(text) == 1 and (ord(text) < 32 and text not in "\t\n\r" or "\ue000" <= text <= "\uf8ff"
                               or text in "\ufffd\ufffe")


def glyph_codes(chars: list[Char]) -> int:
    """How many of the page's characters are glyph codes, private-use bullets (a lone one before a space) excepted."""
    n = 0
    for i, ch in enumerate(chars):
        if is_glyph_code(ch.text):
            pua = len(ch.text) == 1 and "\ue000" <= ch.text <= "\uf8ff"
            lone = pua and (i + 1 == len(chars) or chars[i + 1].text.isspace() or chars[i + 1].x0 - ch.x1 > 0.2 * ch.size)
            n += not lone
    return n


def is_white(color) -> bool:
    """True for a colour that does not show on white paper: grey 1, RGB (1, 1, 1), CMYK (0, 0, 0, 0)."""
    if color is None:
        return False
    values = list(color) if isinstance(color, (tuple, list)) else [color]
    try:
        v = [float(c) for c in values]
    except (TypeError, ValueError):
        return False  # a pattern or named colour space: assume it shows
    return (len(v) in (1, 3) and all(c >= 0.99 for c in v)) or (len(v) == 4 and all(c <= 0.01 for c in v))


def best_reading(readings: list[PageContent]) -> PageContent:
    """Of several engines' readings of one page, the one with the fewest glyph codes (the first on a tie)."""
    return min(readings, key=lambda r: glyph_codes(r.chars))


def _add_box(content: PageContent, x0: float, x1: float, top: float, bottom: float, visible: bool = True) -> None:
    """A drawn rectangle or line as rules: thin and wide → a rule; thin and tall → a vertical rule; a frame → its
    edges. A shape painted white on white (a text background) shows nothing and is no rule."""
    if not visible:
        return
    w, h = x1 - x0, bottom - top
    if w * h > _BACKGROUND * content.width * content.height:
        return
    if h <= 3 and w >= 10:
        content.rules.append(Rule(x0, x1, (top + bottom) / 2))
    elif w <= 3 and h >= 10:
        content.vrules.append(((x0 + x1) / 2, top, bottom))
    elif w >= 30 and h >= 6:
        content.rules += [Rule(x0, x1, top), Rule(x0, x1, bottom)]


# -- pypdfium2 (PDFium) ------------------------------------------------------------------------------------
def pdfium_page(page) -> PageContent:
    """A pypdfium2 page as :class:`PageContent`: PDFium's own character map, font sizes from the text matrix.

    A character PDFium flags as unmapped is kept as a glyph code (so :func:`glyph_codes` sees it); its
    mark for a line-end hyphen (U+FFFE) is a hyphen; the spaces and line breaks PDFium generates itself
    are read as spaces."""
    import pypdfium2.raw as raw

    width, height = float(page.get_width()), float(page.get_height())
    content = PageContent(width=width, height=height, engine="pypdfium2")
    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        rect = raw.FS_RECTF()
        matrix = raw.FS_MATRIX()
        buf = ctypes.create_string_buffer(128)
        fonts: dict[int, str] = {}
        for i in range(raw.FPDFText_CountChars(tp)):
            code = raw.FPDFText_GetUnicode(tp, i)
            if raw.FPDFText_IsGenerated(tp, i) or code in (0x0D, 0x0A):
                content.chars.append(Char(" ", 0, 0, 0, 0, 0))
                continue
            raw.FPDFText_GetLooseCharBox(tp, i, rect)
            raw.FPDFText_GetMatrix(tp, i, matrix)
            scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5 or 1.0
            size = float(raw.FPDFText_GetFontSize(tp, i)) * scale
            if abs(matrix.b) > 0.01 or matrix.a < 0:  # rotated text: left out, as with pdfplumber
                continue
            obj = raw.FPDFText_GetTextObject(tp, i)
            font = raw.FPDFTextObj_GetFont(obj) if obj else None
            key = ctypes.cast(font, ctypes.c_void_p).value or 0 if font else 0
            if key not in fonts:
                fonts[key] = (buf.value.decode("latin-1") if font and raw.FPDFFont_GetBaseFontName(font, buf, 128)
                              else "")
            if code in (0xFFFE, 0x02):
                text = "-"  # PDFium's mark for a hyphen at the end of a line
            elif raw.FPDFText_HasUnicodeMapError(tp, i) == 1:
                text = "\ufffd" if not 0 < code < 0x110000 or not is_glyph_code(chr(code)) else chr(code)
            else:
                text = chr(code) if 0 < code < 0x110000 else "\ufffd"
            content.chars.append(Char(text, rect.left, rect.right, height - rect.top, height - rect.bottom, size,
                                      fonts[key]))
    finally:
        textpage.close()
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        raw.FPDFPath_GetDrawMode(obj.raw, fill, stroke)
        visible = False
        for on, getter in ((stroke.value, raw.FPDFPageObj_GetStrokeColor), (fill.value, raw.FPDFPageObj_GetFillColor)):
            if on and getter(obj.raw, r, g, b, a) and a.value and not (r.value > 250 and g.value > 250 and b.value > 250):
                visible = True
        _add_box(content, left, right, height - top, height - bottom, visible)
    return content


def page_char_count(page) -> int:
    """The number of characters PDFium finds on a pypdfium2 page (cheap: no layout, no Python objects per character)."""
    textpage = page.get_textpage()
    try:
        return int(textpage.count_chars())
    finally:
        textpage.close()


# -- plain text for a huge page (pdfminer.six, nothing per character but the character) ---------------------
def plain_text(page) -> str:
    """The text of a pdfplumber page as pdfminer decodes its strings, in content-stream order, one line per
    text-showing operation; no boxes, no layout objects: memory grows with the text only. Glyph codes
    are left out; a kerning gap of more than a fifth of an em in a ``TJ`` array is a space."""
    from pdfminer.pdfdevice import PDFDevice
    from pdfminer.pdffont import PDFUnicodeNotDefined
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager

    parts: list[str] = []

    class _Text(PDFDevice):
        def render_string(self, textstate, seq, ncs, graphicstate) -> None:
            font = textstate.font
            if font is None:
                return
            for obj in seq:
                if isinstance(obj, (int, float)):
                    if obj < -200:
                        parts.append(" ")
                    continue
                data = obj.encode("latin-1") if isinstance(obj, str) else obj
                if not isinstance(data, bytes):
                    continue
                for cid in font.decode(data):
                    try:
                        parts.append(font.to_unichr(cid))
                    except PDFUnicodeNotDefined:
                        continue
            parts.append("\n")

    rsrcmgr = PDFResourceManager()
    PDFPageInterpreter(rsrcmgr, _Text(rsrcmgr)).process_page(page.page_obj)
    return "".join(parts)


# -- pdfminer.six straight to characters (what pdfplumber reads, without its per-character dicts) ------------
def miner_page(page) -> PageContent:
    """A pdfplumber page read by pdfminer.six into :class:`PageContent` directly: every character's box as
    pdfminer's ``LTChar`` computes it (so exactly what :func:`plumber_page` gives), but no layout tree of
    characters and no attribute dictionaries — about half the time and a fraction of the memory."""
    from pdfminer.converter import PDFLayoutAnalyzer
    from pdfminer.layout import LTChar, LTFigure, LTLine, LTRect
    from pdfminer.pdffont import PDFUnicodeNotDefined
    from pdfminer.pdfinterp import PDFPageInterpreter

    content = PageContent(width=float(page.width), height=float(page.height), engine="pdfminer")
    chars = content.chars

    class _Collector(PDFLayoutAnalyzer):
        def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate):
            try:
                text = font.to_unichr(cid)
            except PDFUnicodeNotDefined:
                text = f"(cid:{cid})"
            item = LTChar(matrix, font, fontsize, scaling, rise, text, font.char_width(cid), font.char_disp(cid), ncs,
                          graphicstate)
            if item.upright:
                chars.append(Char(text, item.x0 + mb_x0, item.x1 + mb_x0, height - item.y1 + mb_top,
                                  height - item.y0 + mb_top, item.size, item.fontname))
            return item.adv

    # as pdfplumber places pdfminer's objects (relative to the MediaBox, y from the top)
    height, mb_x0, mb_top = float(page.height), float(page.mediabox[0]), float(page.mediabox[1])
    rsrcmgr = page.pdf.rsrcmgr
    device = _Collector(rsrcmgr, pageno=page.page_number)
    PDFPageInterpreter(rsrcmgr, device).process_page(page.page_obj)
    stack = [device.cur_item]
    while stack:
        item = stack.pop()
        for obj in item:
            if isinstance(obj, LTFigure):
                stack.append(obj)
            elif isinstance(obj, (LTRect, LTLine)):
                visible = ((obj.stroke and not is_white(obj.stroking_color))
                           or (obj.fill and not is_white(obj.non_stroking_color)))
                _add_box(content, obj.x0 + mb_x0, obj.x1 + mb_x0, height - obj.y1 + mb_top, height - obj.y0 + mb_top,
                         bool(visible))
    return content
