"""PDF bulletins: the text layer of each page as blocks, for :func:`retrieval.intake.parser.parse_bulletin`.

``pdf_to_text(data, file)`` reads a PDF with **pdfplumber** (MIT; built on pdfminer.six) and writes
the words of every page as blank-line separated blocks, pages in order:

- **columns** — a page whose body has a vertical gutter (an x position near the middle that no
  word of most lines crosses) is read left column first, then right; a line that crosses the
  gutter (a title over both columns) is read in its place between them;
- **running headers and footers** — a line among the top or bottom three of a page that recurs
  (digits ignored) on at least half the pages, and any lone page number (``3``, ``Page 3 of 5``,
  ``- 3 -``) at the top or bottom, is left out;
- **paragraphs** — lines are grouped into a block until the vertical gap grows beyond ~0.8 of the
  line height, or a bullet (``•``, ``–``, ``-``, ``*``) starts one; a line in a larger font than the
  page body becomes a markdown heading (``## Enforcement``); lines of a block are joined with a space;
- **hyphenation** — a line that ends ``…enforce-`` before a line starting with a lower-case letter
  is joined without the hyphen (``enforcement``).

Why pdfplumber (compared on two-column pages drawn row by row, a running header and page number,
and words hyphenated at line ends; see ``docs/intake.md``): pypdf and PyMuPDF's plain text
follow the content stream, so a two-column page drawn line by line comes out interleaved, and
pypdf offers no word positions to fix it; PyMuPDF has the positions and is fastest, but is AGPL-3.0
licensed; pdfplumber gives every word with its box (so columns, headers and footers are decided by
position) and metadata, under MIT, pure Python. None of the three removes hyphens itself.

For a PDF bulletin the *source text* that citations index is this extracted text (stored with the
index generation); metadata ``page_starts`` lists the offset where each page's text begins, so a
passage's page is known (:attr:`retrieval.intake.structure.Bulletin.page_starts`).
"""

from __future__ import annotations

import re
from collections import Counter

from retrieval.errors import BulletinParseError
from retrieval.text import is_iso_date

#: Lines among this many at the top or bottom of a page, and within EDGE_BAND of its height from the
#: top or bottom edge, may be running headers or footers.
EDGE_LINES = 3
EDGE_BAND = 0.08
_PAGE_NUMBER = re.compile(r"^(page\s*)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE)
_BULLET = re.compile(r"^([•▪◦●‣–*]|-(?=\s))\s*")
_HYPHEN_END = re.compile(r"[^\W\d_]-$")


def pdf_to_text(data: bytes, file: str) -> tuple[str, dict[str, str]]:
    """The text of a PDF bulletin as blank-line separated blocks, and its metadata.

    Returns:
        (text, metadata): metadata may hold ``title`` (the document's Title), ``date`` (from its
        CreationDate, ``YYYY-MM-DD``) and always holds ``page_starts``: comma-separated offsets into
        text where pages 1, 2, … begin (a page with no text starts where the next one does).

    Raises:
        BulletinParseError: encrypted (password), broken or not a PDF, or no text layer at all.
    """
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            meta = _metadata(pdf.metadata or {})
            pages = [_page_lines(page) for page in pdf.pages]
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise BulletinParseError(file, "the PDF is encrypted (password-protected): save an unprotected copy") from None
    except BulletinParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a damaged file
        if _encrypted(exc, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise BulletinParseError(file, "the PDF is encrypted (password-protected): save an unprotected copy") from None
        raise BulletinParseError(file, f"not a readable PDF ({type(exc).__name__}): the file is damaged or "
                                       "not a PDF") from None
    if not any(pages):
        raise BulletinParseError(file, "no text layer: OCR it first")
    repeated = _running_lines(pages)
    kept = [[ln for ln in lines if not _is_edge_noise(ln, lines, repeated)] for lines in pages]
    sizes: Counter[int] = Counter()  # the body size carries the most characters away from the page edges
    for lines in kept:
        for ln in lines:
            sizes[round(ln.size)] += len(ln.text) if not ln.edge else 0
    sizes = +sizes or Counter(round(ln.size) for lines in kept for ln in lines)
    body = float(sizes.most_common(1)[0][0]) if sizes else 0.0
    texts = [_page_text(lines, body) for lines in kept]
    out, starts, pos = [], [], 0
    for t in texts:
        starts.append(pos)
        if t:
            out.append(t)
            pos += len(t) + 2
    meta["page_starts"] = ",".join(map(str, starts))
    return "\n\n".join(out) + "\n", meta


def _encrypted(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """True when ``exc`` says the PDF needs a password — also when pdfplumber wraps pdfminer's error
    (``PdfminerException(PDFPasswordIncorrect())``: the wrapper's name and text say nothing of it)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 10:
        e = todo.pop()
        seen.append(e)
        if isinstance(e, kinds) or "password" in str(e).lower() or "encrypt" in type(e).__name__.lower():
            return True
        todo += [a for a in e.args if isinstance(a, BaseException)]
        todo += [c for c in (e.__cause__, e.__context__) if c is not None and c not in seen]
    return False


# -- lines ---------------------------------------------------------------------------------------
class _Line:
    """One printed line: its words' text joined by spaces, box and font size."""

    __slots__ = ("text", "x0", "x1", "top", "bottom", "size", "edge")

    def __init__(self, words: list[dict], page_height: float):
        self.text = " ".join(w["text"] for w in words)
        self.x0, self.x1 = min(w["x0"] for w in words), max(w["x1"] for w in words)
        self.top, self.bottom = min(w["top"] for w in words), max(w["bottom"] for w in words)
        self.size = max(float(w.get("size") or 0) for w in words)
        self.edge = self.top < page_height * EDGE_BAND or self.bottom > page_height * (1 - EDGE_BAND)


def _rows(words: list[dict]) -> list[list[dict]]:
    """Words grouped into rows (same baseline within a third of their height), top to bottom, left to right."""
    rows: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["bottom"], 1), w["x0"])):
        if rows and abs(rows[-1][-1]["bottom"] - w["bottom"]) <= max(1.0, (w["bottom"] - w["top"]) / 3):
            rows[-1].append(w)
        else:
            rows.append([w])
    return [sorted(r, key=lambda w: w["x0"]) for r in rows]


def _split_row(row: list[dict], gutter: float | None) -> list[list[dict]]:
    """A row cut at the gutter into its left and right parts (one part when a word crosses it)."""
    if gutter is None or any(w["x0"] < gutter < w["x1"] for w in row):
        return [row]
    left, right = [w for w in row if w["x1"] <= gutter], [w for w in row if w["x0"] >= gutter]
    return [part for part in (left, right) if part]


def _gutter(rows: list[list[dict]], width: float) -> float | None:
    """The x of a column gutter between 30 % and 70 % of the page width, or None for one column.

    A gutter is crossed by at most a fifth of the rows and has words on both sides in at least a
    third of the rows (and in at least three rows)."""
    if len(rows) < 3:
        return None
    candidates = []
    for x in range(int(width * 0.3), int(width * 0.7) + 1, 2):
        crossed = sum(any(w["x0"] < x < w["x1"] for w in r) for r in rows)
        both = sum(any(w["x1"] <= x for w in r) and any(w["x0"] >= x for w in r) for r in rows)
        if crossed * 5 <= len(rows) and both * 3 >= len(rows) and both >= 3:
            near = sum(1 for r in rows for w in r if w["x0"] - 6 < x < w["x1"] + 6)  # prefer the widest empty band
            candidates.append((crossed, near, abs(x - width / 2), float(x)))
    if candidates:
        return min(candidates)[3]
    return None


def _page_lines(page) -> list[_Line]:
    """The lines of one page in reading order (columns left to right, full-width rows in place)."""
    words = page.extract_words(extra_attrs=["size"])
    if not words:
        return []
    rows = _rows(words)
    gutter = _gutter(rows, float(page.width))
    out: list[_Line] = []
    left: list[_Line] = []
    right: list[_Line] = []
    for row in rows:
        parts = _split_row(row, gutter)
        if len(parts) == 1 and gutter is not None and any(w["x0"] < gutter < w["x1"] for w in row):
            out += left + right  # a full-width row: the columns above it are read first
            left, right = [], []
            out.append(_Line(row, float(page.height)))
            continue
        for part in parts:
            (left if gutter is None or part[0]["x1"] <= gutter else right).append(_Line(part, float(page.height)))
    return out + left + right


# -- running headers, footers and page numbers ----------------------------------------------------
def _key(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def _edges(lines: list[_Line]) -> list[_Line]:
    """The EDGE_LINES top-most and bottom-most lines of a page."""
    by_top = sorted(lines, key=lambda ln: ln.top)
    return by_top[:EDGE_LINES] + by_top[-EDGE_LINES:]


def _running_lines(pages: list[list[_Line]]) -> set[str]:
    """Keys of lines near the top or bottom of at least half the pages (and of two or more)."""
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_key(ln.text) for ln in _edges(lines) if ln.edge})
    need = max(2, (len(pages) + 1) // 2)
    return {k for k, n in counts.items() if n >= need}


def _is_edge_noise(line: _Line, lines: list[_Line], repeated: set[str]) -> bool:
    """True for a running header/footer or a page number among the top or bottom lines of its page."""
    if not line.edge or line not in _edges(lines):
        return False
    return _key(line.text) in repeated or bool(_PAGE_NUMBER.match(line.text.strip()))


# -- blocks -----------------------------------------------------------------------------------------
def _page_text(lines: list[_Line], body: float) -> str:
    """The blocks of one page (lines already in reading order), blank-line separated; ``body`` is
    the document's most common font size (a larger line is a heading)."""
    if not lines:
        return ""
    blocks: list[list[str]] = []
    kinds: list[str] = []
    prev: _Line | None = None
    for ln in lines:
        heading = ln.size >= body * 1.15 and len(ln.text) <= 150
        bullet = bool(_BULLET.match(ln.text))
        gap = ln.top - prev.bottom if prev is not None else 0.0
        height = ln.bottom - ln.top
        new = (prev is None or heading or bullet or kinds[-1] == "heading" or ln.top < prev.top
               or gap > 0.8 * height or (prev.size >= body * 1.15) != heading)
        if new:
            blocks.append([])
            kinds.append("heading" if heading else "text")
        text = _BULLET.sub("- ", ln.text, count=1) if bullet else ln.text
        blocks[-1].append(text)
        prev = ln
    out = []
    for kind, block in zip(kinds, blocks):
        text = _join_lines(block)
        out.append("## " + text if kind == "heading" else text)
    return "\n\n".join(out)


def _join_lines(lines: list[str]) -> str:
    """Lines of one block joined by spaces; a word hyphenated at a line end is joined again."""
    text = lines[0]
    for ln in lines[1:]:
        if _HYPHEN_END.search(text) and ln[:1].islower():
            text = text[:-1] + ln
        else:
            text += " " + ln
    return text


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
