"""PDF bulletins: the text layer in reading order, for :func:`retrieval.intake.sources.read_bulletin`.

``pdf_to_text(data, file)`` reads a PDF page by page and writes its text as blank-line separated
blocks (paragraphs, ``## headings``, ``- bullets``, one block per footnote):

1. **bounds first** (:mod:`retrieval.intake.limits`): PDFium counts the pages and the characters of
   each page without building anything per character; a file over ``BULLETIN_BOT_MAX_PAGES_PER_FILE``
   or ``BULLETIN_BOT_MAX_CHARS_PER_FILE`` (the caller's :class:`~retrieval.intake.limits.FileBounds`)
   is refused before it is parsed;
2. **each page** is read by pdfminer.six as pdfplumber places it (opened through pdfplumber) — or,
   for a page of more than :data:`MAX_LAYOUT_CHARS` characters (one endless line), as plain text —
   and closed at once, so memory does not grow with the pages; a page whose text is glyph codes
   (``(cid:54)``, unmapped private-use characters) is read again with PDFium and the reading with
   fewer glyph codes is kept (:mod:`retrieval.intake.pdf_engines`); glyph codes no engine maps are left
   out and reported per page;
3. **its layout** gives blocks in reading order (:mod:`retrieval.intake.pdf_layout`: columns per region,
   any number of them, rules and box edges respected) and footnotes (:mod:`retrieval.intake.pdf_document`);
4. **the document** then drops running headers, footers and page numbers, finds headings and the
   cover, joins hyphenated words by the document's own vocabulary and paragraphs continued across
   a column or page break.

An OCR layer (invisible text over a scan) is text like any other and is read as it is. A PDF with
no text at all is "no text layer: OCR it first".

For a PDF bulletin the *source text* that citations index is this extracted text (stored with the
index generation). Metadata ``page_starts`` lists the offsets where runs of text begin and
``page_numbers`` the page of each run (a page's footnotes come after a paragraph it continues on the
next page, so pages need not ascend), so a passage's page is known
(:meth:`retrieval.intake.structure.Bulletin.page_at`). The date: one printed on the cover, in the title
block or in running headers/footers (``date_source`` "document"), else the PDF's CreationDate
(``date_source`` "metadata").
"""

from __future__ import annotations

import io
import logging
import re

from retrieval.errors import BulletinParseError
from retrieval.text import is_iso_date

from .dates import find_date
from .limits import FileBounds
from .pdf_document import PageText, TextBlock, compose, page_lines
from .pdf_engines import (
    PageContent,
    best_reading,
    glyph_codes,
    is_glyph_code,
    miner_page,
    page_char_count,
    pdfium_page,
    plain_text,
)
from .pdf_layout import Char, page_blocks

log = logging.getLogger(__name__)

#: A page with more characters than this (as PDFium counts them: it stops counting at 32,767) is read
#: as plain text, without layout: pdfplumber would spend about 1.5 kB per character on it, and a
#: layout of that many characters on one page means nothing. A dense A4 page holds about 6,000.
MAX_LAYOUT_CHARS = 30_000
_ENCRYPTED = "the PDF is encrypted (password-protected): save an unprotected copy"


def pdf_to_text(data: bytes, file: str, bounds: FileBounds | None = None) -> tuple[str, dict[str, str]]:
    """The text of a PDF bulletin as blank-line separated blocks, and its metadata.

    Returns:
        (text, metadata): metadata may hold ``title`` (the document's Title), ``date`` with
        ``date_source`` ("document" for a date printed on the first page or in running
        headers/footers, "metadata" for the CreationDate), ``unread`` (pages whose glyph codes no
        engine maps, one sentence a line; :attr:`Bulletin.notes`) and always
        holds ``page_starts`` and ``page_numbers`` (comma-separated; see the module doc).

    Raises:
        BulletinParseError: encrypted (password), broken or not a PDF, over a limit of
            ``bounds`` (pages, characters; :class:`~retrieval.errors.FileLimitError`), or no text layer at all.
    """
    import pypdfium2 as pdfium

    bounds = bounds or FileBounds()
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise BulletinParseError(file, _ENCRYPTED) from None
        raise BulletinParseError(file, "not a readable PDF (PDFium could not open it): the file is damaged or not a PDF") from None
    try:
        bounds.check_pages(len(doc), file)
        counts = []
        for i in range(len(doc)):
            page = doc[i]
            try:
                counts.append(page_char_count(page))
            finally:
                page.close()
        bounds.check_chars(sum(counts), file)
        pages, warnings, info = _read_pages(data, file, doc, counts)
    finally:
        doc.close()
    if not any(p.blocks for p in pages):
        if warnings:
            raise BulletinParseError(file, "no readable text: its text layer is glyph codes that no text engine maps "
                                           "to letters (a font without a Unicode map); OCR it first")
        raise BulletinParseError(file, "no text layer: OCR it first")
    meta = _metadata(info)
    text, starts, numbers = compose(pages)
    printed = next((found[0] for line in _self_describing_lines(pages) if (found := find_date(line))), None)
    if printed:
        meta["date"], meta["date_source"] = printed, "document"
    elif "date" in meta:
        meta["date_source"] = "metadata"
    if warnings:
        meta["unread"] = "\n".join(warnings)
    meta["page_starts"] = ",".join(map(str, starts))
    meta["page_numbers"] = ",".join(map(str, numbers))
    return text + "\n", meta


def _read_pages(data: bytes, file: str, doc, counts: list[int]) -> tuple[list[PageText], list[str], dict]:
    """Every page's :class:`PageText` (each pdfplumber page closed once read), the warnings about
    pages, and the document information (Title, CreationDate…)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    out: list[PageText] = []
    unmapped: list[tuple[int, int]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            info = dict(pdf.metadata or {})
            for i, page in enumerate(pdf.pages):
                try:
                    content = _page_content(page, doc, i, counts[i])
                finally:
                    page.close()
                left = glyph_codes(content.chars)
                if left:
                    unmapped.append((i + 1, left))
                chars = [_readable(c) for c in content.chars]
                blocks = page_blocks([c for c in chars if c is not None], content.rules, content.vrules, i + 1,
                                     content.height)
                out.append(page_lines(blocks, i + 1, content.width, content.height))
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise BulletinParseError(file, _ENCRYPTED) from None
    except BulletinParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a damaged file
        if "password" in str(exc).lower() or "encrypt" in type(exc).__name__.lower():
            raise BulletinParseError(file, _ENCRYPTED) from None
        raise BulletinParseError(file, f"not a readable PDF ({type(exc).__name__}): the file is damaged or "
                                       "not a PDF") from None
    warnings = []
    if unmapped:
        where = ", ".join(f"{page} ({n})" for page, n in unmapped[:20]) + (" …" if len(unmapped) > 20 else "")
        warnings.append(f"glyph codes no text engine maps to letters were left out on page(s) {where} "
                        "(characters per page in brackets); OCR those pages to read them")
        log.info("%s", warnings[-1])
    return out, warnings, info


def _page_content(page, doc, index: int, count: int) -> PageContent:
    """One page read by pdfminer.six (:func:`~retrieval.intake.pdf_engines.miner_page`: pdfplumber's
    characters without its dictionaries), by PDFium when that gives glyph codes PDFium does not, or as
    plain text for a page of more than :data:`MAX_LAYOUT_CHARS` characters."""
    if count > MAX_LAYOUT_CHARS:
        return _plain_page(page)
    content = miner_page(page)
    if glyph_codes(content.chars):
        other = doc[index]
        try:
            alternative = pdfium_page(other)
        finally:
            other.close()
        return best_reading([content, alternative])
    return content


def _plain_page(page) -> PageContent:
    """A huge page as plain text (:func:`~retrieval.intake.pdf_engines.plain_text`), laid out as lines of
    ten-point text: there is no geometry worth reading in a page of one endless line."""
    content = PageContent(width=float(page.width), height=float(page.height), engine="pdfminer-text")
    y = 0.0
    for raw_line in plain_text(page).splitlines():
        x = 0.0
        for word in raw_line.split():
            content.chars.append(Char(word, x, x + 5.0 * len(word), y, y + 10.0, 10.0))
            content.chars.append(Char(" ", 0, 0, 0, 0, 0))
            x += 5.0 * len(word) + 3.0
        y += 12.0
    content.height = max(content.height, y + 100.0)
    return content


def _readable(c: Char) -> Char | None:
    """A character as text: None for a glyph code, a bullet for a private-use symbol glyph."""
    if not is_glyph_code(c.text):
        return c
    if len(c.text) == 1 and "\ue000" <= c.text <= "\uf8ff":
        return Char("•", c.x0, c.x1, c.top, c.bottom, c.size, c.font)
    return None


def _self_describing_lines(pages: list[PageText]) -> list[str]:
    """Lines that speak about the document itself, in the order a date is looked for in them: the
    cover or the first page's headings and short opening lines, then running headers and footers."""
    first: list[str] = []
    if pages:
        for b in pages[0].blocks:
            if b.kind == "cover":
                first += b.lines[0].text.split("\n")
            elif b.kind == "heading" or (b.kind == "body" and len(b.text.split()) <= 12 and not first_body_seen(pages[0], b)):
                first.append(b.text)
    running = [b.text for p in pages for b in p.blocks if b.kind == "noise" and not b.text.strip().isdigit()]
    return first + running


def first_body_seen(page: PageText, block: TextBlock) -> bool:
    """True when a paragraph of more than twelve words comes before ``block`` on its page."""
    for b in page.blocks:
        if b is block:
            return False
        if b.kind == "body" and len(b.text.split()) > 12:
            return True
    return False


def _metadata(info: dict) -> dict[str, str]:
    """title and date (ISO) from the PDF's document information, when usable."""
    meta: dict[str, str] = {}
    title = str(info.get("Title") or "").strip()
    title = re.sub(r"^Microsoft (Word|PowerPoint) - |\.(docx?|pptx?|odt)$", "", title).strip()
    if title and title.lower() not in ("untitled", "unknown", "anonymous"):
        meta["title"] = title
    m = re.match(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?", str(info.get("CreationDate") or "").strip())
    if m:
        date = "-".join(g for g in m.groups() if g)
        if is_iso_date(date):
            meta["date"] = date
    return meta

