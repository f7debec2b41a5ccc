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
