"""Small real PDFs for the tests, written with reportlab (no hand-made bytes).

``make_pdf(path, pages, ...)`` draws each page's lines; a page is a list of columns (one or two),
each a list of lines (``"## Heading"`` is drawn larger; ``""`` is a paragraph gap). Two columns are
drawn row by row — left line, right line — as many layout tools write them, so an extractor that
follows the content stream interleaves them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

HEADER = "ACME Law LLP · Privacy Bulletin · March 2025"


def make_pdf(path: Path, pages: list[list[list[str]]], *, title: str | None = "Privacy Bulletin March 2025",
             created: datetime | None = datetime(2025, 3, 14), header: str | None = HEADER, page_numbers: bool = True,
             encrypt: str | None = None) -> Path:
    """Write a PDF at path and return path (see the module doc for ``pages``)."""
    width, height = A4
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt, )
    if title:
        c.setTitle(title)
    if created is not None:
        c.setCreator("tests")
        c.setDateFormatter(lambda *_: created.strftime("D:%Y%m%d%H%M%S+00'00'"))
    for number, columns in enumerate(pages, start=1):
        if header:
            c.setFont("Helvetica", 8)
            c.drawString(72, height - 36, header)
        if page_numbers:
            c.setFont("Helvetica", 8)
            c.drawCentredString(width / 2, 30, f"Page {number} of {len(pages)}")
        xs = [72, width / 2 + 18] if len(columns) == 2 else [72]
        rows = max(len(col) for col in columns)
        for i in range(rows):
            for x, col in zip(xs, columns):
                if i < len(col) and col[i]:
                    heading = col[i].startswith("## ")
                    c.setFont("Helvetica-Bold" if heading else "Helvetica", 14 if heading else 10)
                    c.drawString(x, height - 90 - 16 * i, col[i][3:] if heading else col[i])
        c.showPage()
    c.save()
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF whose pages hold only drawings (as a scan holds only an image): no text layer."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(2):
        c.rect(72, 72, 400, 600, fill=1)
        c.showPage()
    c.save()
    return path


# -- free layouts -------------------------------------------------------------------------------------
def wrap(text: str, width: float, size: float = 10, font: str = "Helvetica") -> list[str]:
    """``text`` broken into lines of at most ``width`` points in ``font`` at ``size`` (greedy, at spaces;
    a word ending ``-`` may end a line, which is how the tests draw a hyphenated line end)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for word in text.split(" "):
        if lines and stringWidth(lines[-1] + " " + word, font, size) <= width and not lines[-1].endswith("-"):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def make_layout_pdf(path: Path, pages: list[list[tuple]], *, title: str | None = "Layout test",
                    created: datetime | None = datetime(2025, 3, 14), pagesize: tuple[float, float] = A4) -> Path:
    """Write a PDF whose pages are lists of drawing operations, y measured from the TOP of the page:

    - ``("text", x, y, string, size, bold)``: one line of text at its baseline; ``^{3}`` in a string is
      drawn as a superscript 3 (smaller, raised), as footnote markers are;
    - ``("para", x, y, width, text, size, bold)``: ``text`` wrapped to ``width``, one line per 1.25 × size;
    - ``("rule", x0, x1, y)``: a horizontal line; ``("box", x0, x1, top, bottom, grey)``: a filled box;
    - ``("invisible", x, y, string, size)``: text in render mode 3 (an OCR layer), over a grey image-like box.
    """
    width, height = pagesize
    c = canvas.Canvas(str(path), pagesize=pagesize)
    if title:
        c.setTitle(title)
    if created is not None:
        c.setDateFormatter(lambda *_: created.strftime("D:%Y%m%d%H%M%S+00'00'"))
    for ops in pages:
        for op in ops:
            kind = op[0]
            if kind == "text":
                _, x, y, s, size, bold = op
                _draw_rich(c, x, height - y, s, size, "Helvetica-Bold" if bold else "Helvetica")
            elif kind == "para":
                _, x, y, w, s, size, bold = op
                font = "Helvetica-Bold" if bold else "Helvetica"
                for i, line in enumerate(wrap(s, w, size, font)):
                    _draw_rich(c, x, height - y - i * size * 1.25, line, size, font)
            elif kind == "rule":
                _, x0, x1, y = op
                c.setLineWidth(0.8)
                c.line(x0, height - y, x1, height - y)
            elif kind == "box":
                _, x0, x1, top, bottom, grey = op
                c.setFillGray(grey)
                c.rect(x0, height - bottom, x1 - x0, bottom - top, stroke=0, fill=1)
                c.setFillGray(0)
            elif kind == "invisible":
                _, x, y, s, size = op
                c.setFillGray(0.6)
                c.rect(x - 5, height - y - 5, 400, size + 10, stroke=0, fill=1)
                c.setFillGray(0)
                t = c.beginText(x, height - y)
                t.setFont("Helvetica", size)
                t.setTextRenderMode(3)
                t.textLine(s)
                c.drawText(t)
        c.showPage()
    c.save()
    return path


def _draw_rich(c, x: float, y: float, s: str, size: float, font: str) -> None:
    """Draw ``s`` at baseline y; each ``^{…}`` is a superscript (60 % size, raised 35 %)."""
    import re

    from reportlab.pdfbase.pdfmetrics import stringWidth

    for k, piece in enumerate(re.split(r"\^\{([^}]*)\}", s)):
        sup = k % 2 == 1
        f_size = size * 0.6 if sup else size
        c.setFont(font, f_size)
        c.drawString(x, y + (size * 0.35 if sup else 0), piece)
        x += stringWidth(piece, font, f_size)


def make_unmapped_font_pdf(path: Path) -> Path:
    """Two pages in an embedded TrueType subset (DejaVu Sans) whose ToUnicode map is taken out, as in PDFs
    whose fonts carry no map from glyphs to letters: page 1 is ASCII (its codes are the letters'), page 2
    holds accented letters, which no text engine can then map back (glyph codes). The map is removed by
    renaming its key in the written file (same length, so the cross-reference table stays right)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    c = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    for lines in (["Released on 14 March 2025 by the authority.", "The register opens in April."],
                  ["Décision n° 2025-014 relative à la sécurité des données", "Entrée en vigueur: été 2025"]):
        c.setFont("DejaVuSans", 11)
        for i, line in enumerate(lines):
            c.drawString(72, 700 - 16 * i, line)
        c.showPage()
    c.save()
    data = path.read_bytes()
    assert b"/ToUnicode" in data
    path.write_bytes(data.replace(b"/ToUnicode", b"/ToUnicodX"))
    return path
