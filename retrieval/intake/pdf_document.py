"""A PDF's pages of blocks → the bulletin text that citations index, with the page of every character.

:func:`page_lines` turns one page's blocks (:mod:`retrieval.intake.pdf_layout`) into light :class:`TextBlock`
objects — footnotes found and split, footnote markers taken out of sentences — so that a long
document keeps only text, never its characters. :func:`compose` then reads the whole document:

- **running headers, footers and page numbers**: a block wholly inside the top or bottom
  :data:`EDGE_BAND` of its page whose text (digits aside) *or* whose place and size recurs on at
  least :data:`RUNNING_SHARE` of the pages (so a header naming each chapter goes too), and any lone
  page number (``3``, ``Page 3 of 5``, ``- 3 -``) there;
- **the body style**: the font size and weight that carry most characters;
- **footnotes**: smaller text at the foot of a page that starts with a number (superscript or
  not): one passage per footnote, placed after the text of its page and cited with that page; a
  superscript number in a sentence is a marker and is removed (after a digit and not a footnote
  number it is an exponent, written ``10^26``);
- **headings**: a short block (at most three lines, no closing punctuation) set larger than the
  body (written ``## Heading``, a section) or bold where the body is not (written as a line of its
  own, which the parser takes for a heading);
- **a cover**: a first page holding only display type becomes one paragraph, a line per block
  (title, subtitle, "Adopted on 17 December 2024"), so what and when are quoted together;
- **hyphenation**: ``manage-`` + ``ment`` is joined when the document itself writes ``management``
  (or neither half is a word of it), kept as ``wide-reaching`` when the document writes the
  compound with its hyphen or both halves are its words (:func:`join_hyphenated`);
- **continuations**: a paragraph that stops without closing punctuation at the foot of a column or
  page and goes on in lower case at the top of the next is one paragraph.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .pdf_layout import EDGE_BAND, Block, Line, is_bullet

#: A header or footer recurs on at least this share of the pages (and on two or more).
RUNNING_SHARE = 0.4
#: A block this much larger than the body text is a display heading.
HEADING_RATIO = 1.12
#: Footnote text is at most this share of its page's body size.
FOOTNOTE_RATIO = 0.92

_PAGE_NUMBER = re.compile(r"^(page\s*)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:[-‐][^\W\d_]+)*")
_HYPHEN_END = re.compile(r"[^\W\d_][-‐]$")
_CLOSING = "\"'”’)]»"
_SENTENCE_END = ".!?:;"


@dataclass
class TextLine:
    """A line's text (markers handled) with the geometry and style the document passes need."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    marker: str | None = None


@dataclass(eq=False)
class TextBlock:
    """A block of text lines; ``kind`` is body, heading, footnote, noise or cover."""

    lines: list[TextLine]
    page: int
    kind: str = "body"
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    bold: bool = False
    breaks: bool = False  # its lines are separate short lines (a signature, an address): kept one per line
    pieces: list[tuple[str, int]] = field(default_factory=list)  # (text, page) once composed

    def __post_init__(self) -> None:
        self.x0, self.x1 = min(ln.x0 for ln in self.lines), max(ln.x1 for ln in self.lines)
        self.top, self.bottom = self.lines[0].top, max(ln.bottom for ln in self.lines)
        self.size, self.bold = self.lines[0].size, self.lines[0].bold

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)


@dataclass
class PageText:
    """One page's blocks in reading order, and its size."""

    number: int
    width: float
    height: float
    blocks: list[TextBlock]


# -- one page ------------------------------------------------------------------------------------------
def _line_text(line: Line, footnotes: set[int], keep_first_number: bool = False) -> str:
    """A line's words joined as printed: a space where the PDF has one (or a gap), superscripts handled."""
    out: list[str] = []
    prev_x1: float | None = None
    for k, w in enumerate(line.words):
        text = w.text
        if w.sup and not (keep_first_number and k == 0):
            digits = text.strip(",")
            after_digit = bool(out) and out[-1][-1:].isdigit() and (prev_x1 is None or w.x0 - prev_x1 < 0.2 * w.size)
            if digits.isdigit() and after_digit and int(digits.split(",")[0]) not in footnotes:
                out.append("^" + text)
            elif text.isalpha() and len(text) <= 3:
                out.append(text)
            if prev_x1 is not None and w.x0 - prev_x1 < 0.12 * w.size:
                prev_x1 = w.x1  # a marker that touches its word: the white after it decides the space
            continue
        if out and (w.space or prev_x1 is None or w.x0 - prev_x1 >= 0.12 * w.size):
            out.append(" ")
        out.append(text)
        prev_x1 = w.x1
    return "".join(out).strip()


def _footnote_starts(block: Block) -> list[int]:
    """Indexes of the lines of a small-type block at a page's foot that start a footnote: a number
    first, set smaller than its line (a superscript) or following the previous footnote's number."""
    starts: list[int] = []
    for i, ln in enumerate(block.lines):
        first = ln.words[0]
        digits = first.text.rstrip(".")
        if not digits.isdigit():
            continue
        if i == 0 or first.sup or first.size < 0.9 * ln.size or (starts and int(digits) == _number(block.lines[starts[-1]]) + 1):
            starts.append(i)
    return starts


def _number(line: Line) -> int:
    digits = line.words[0].text.rstrip(".")
    return int(digits) if digits.isdigit() else -1


def page_lines(blocks: list[Block], number: int, width: float, height: float) -> PageText:
    """One page's blocks as :class:`PageText`: footnotes found (kind ``footnote``, one block each) and
    every line's words made text (footnote markers out, exponents as ``^n``)."""
    sizes: Counter[float] = Counter()
    for b in blocks:
        for ln in b.lines:
            if EDGE_BAND * height < ln.top and ln.bottom < (1 - EDGE_BAND) * height:
                sizes[ln.size] += sum(len(w.text) for w in ln.words)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    notes: list[tuple[Block, list[int]]] = []
    for i, b in enumerate(blocks):
        first = b.lines[0].words
        if (b.size > FOOTNOTE_RATIO * body or b.top < 0.5 * height or not first[0].text.rstrip(".").isdigit()
                or len(first) < 2 and len(b.lines) < 2):
            continue  # not small type at the foot of the page, or a lone number (a page number)
        if any(o.size > FOOTNOTE_RATIO * body and o.top >= b.bottom and o.bottom < (1 - EDGE_BAND) * height
               and min(o.x1, b.x1) > max(o.x0, b.x0) for o in blocks):
            continue  # body text below it: not the foot of the page
        starts = _footnote_starts(b)
        if starts and starts[0] == 0:
            notes.append((b, starts))
    numbers = {_number(b.lines[s]) for b, starts in notes for s in starts}
    out: list[TextBlock] = []
    note_blocks = {id(b): starts for b, starts in notes}
    for b in blocks:
        found = note_blocks.get(id(b))
        if found is None:
            lines = [_text_line(ln, numbers) for ln in b.lines]
            lines = [ln for ln in lines if ln.text]
            if lines:
                out.append(TextBlock(lines, number))
            continue
        for s, e in zip(found, found[1:] + [len(b.lines)]):
            lines = [_text_line(ln, numbers, keep_first_number=(k == s)) for k, ln in enumerate(b.lines[s:e], start=s)]
            out.append(TextBlock([ln for ln in lines if ln.text] or lines, number, kind="footnote"))
    return PageText(number, width, height, out)


def _text_line(line: Line, footnotes: set[int], keep_first_number: bool = False) -> TextLine:
    text = _line_text(line, footnotes, keep_first_number)
    if keep_first_number and line.words[0].sup:
        text = re.sub(r"^(\d+)(?=[^\d\s])", r"\1 ", text)
    return TextLine(text, line.x0, line.x1, line.top, line.bottom, line.size, line.bold, line.marker)


# -- the document -----------------------------------------------------------------------------------------
def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _mark_running(pages: list[PageText]) -> None:
    """Running headers/footers and page numbers in the edge bands become ``noise``."""
    def edge(p: PageText, b: TextBlock) -> bool:
        return b.bottom <= EDGE_BAND * p.height or b.top >= (1 - EDGE_BAND) * p.height

    texts: Counter[str] = Counter()
    slots: Counter[tuple] = Counter()
    for p in pages:
        ks = {_key(b.text) for b in p.blocks if edge(p, b)}
        ss = {(round(b.x0 / 6), round(b.top / 6), round(b.size)) for b in p.blocks if edge(p, b)}
        texts.update(ks)
        slots.update(ss)
    need = max(2, int(RUNNING_SHARE * len(pages) + 0.999))
    for p in pages:
        for b in p.blocks:
            if b.kind == "footnote" or not edge(p, b):
                continue
            slot = (round(b.x0 / 6), round(b.top / 6), round(b.size))
            if _PAGE_NUMBER.match(b.text.strip()) or texts[_key(b.text)] >= need or slots[slot] >= need:
                b.kind = "noise"


def body_style(pages: list[PageText]) -> tuple[float, bool]:
    """(size, bold) of the body text: the style that carries the most characters outside noise and footnotes."""
    weights: Counter[tuple[float, bool]] = Counter()
    for p in pages:
        for b in p.blocks:
            if b.kind in ("body", "heading"):
                for ln in b.lines:
                    weights[(ln.size, ln.bold)] += len(ln.text)
    return weights.most_common(1)[0][0] if weights else (0.0, False)


def _mark_headings(pages: list[PageText], body: float, body_bold: bool) -> None:
    for p in pages:
        for b in p.blocks:
            end = b.text.rstrip(_CLOSING)[-1:]
            if b.kind != "body" or len(b.lines) > 3 or len(b.text) > 200 or not end or end in ".;,:":
                continue
            if b.size >= HEADING_RATIO * body or (b.bold and not body_bold and b.size >= 0.95 * body and len(b.lines) <= 2):
                b.kind = "heading"


def _is_short_line(b: TextBlock) -> bool:
    end = b.text.rstrip(_CLOSING)[-1:]
    return (b.kind == "body" and len(b.lines) == 1 and not b.lines[0].marker and len(b.text.split()) <= 8
            and end not in ".;,!?")


def _merge_short_lines(pages: list[PageText]) -> None:
    """Single short lines one under the other, flush left in one style (a signature: "For the Board" /
    "The Chair" / "Anu Talus", an address), become one block of lines."""
    for p in pages:
        out: list[TextBlock] = []
        for b in p.blocks:
            a = out[-1] if out else None
            if (a is not None and _is_short_line(b) and (_is_short_line(a) or a.breaks) and abs(a.x0 - b.x0) <= 2
                    and abs(a.size - b.size) <= 0.05 * a.size and a.bold == b.bold
                    and 0 <= b.top - a.bottom <= 3.5 * (a.lines[-1].bottom - a.lines[-1].top)):
                a.lines.append(b.lines[0])
                a.breaks, a.bottom, a.x1 = True, b.bottom, max(a.x1, b.x1)
                continue
            out.append(b)
        p.blocks = out


def _mark_cover(pages: list[PageText], body: float, vocab: Vocabulary) -> None:
    """A first page of display type only (in a document of more pages) becomes one ``cover`` block:
    a line per block, each block's lines joined."""
    if len(pages) < 2 or not pages[0].blocks:
        return
    first = pages[0]
    kept = [b for b in first.blocks if b.kind != "noise"]
    if not kept or any(b.kind == "footnote" or b.size < 1.05 * body for b in kept) or sum(len(b.lines) for b in kept) > 12:
        return
    text = "\n".join(_block_text(TextBlock(b.lines, b.page), vocab, body) for b in kept)
    line = TextLine(text, min(b.x0 for b in kept), max(b.x1 for b in kept), kept[0].top, kept[-1].bottom,
                    kept[0].size, kept[0].bold)
    first.blocks = [b for b in first.blocks if b.kind == "noise"] + [TextBlock([line], first.number, kind="cover")]


# -- hyphenation -------------------------------------------------------------------------------------------
def vocabulary(pages: list[PageText]) -> Vocabulary:
    """Lower-cased words of the document: hyphenated compounds whole and their parts; the halves of a
    word split at a line end (the last word of a line ending ``-`` and the first of the line read
    next, in any block) are left out, so that only words the document prints whole count."""
    vocab = Vocabulary()
    after_hyphen = False
    for p in pages:
        for b in p.blocks:
            if b.kind == "noise":
                continue
            for ln in b.lines:
                words = _WORD.findall(ln.text.lower())
                if after_hyphen and words:
                    words = words[1:]
                after_hyphen = bool(_HYPHEN_END.search(ln.text))
                if after_hyphen and words:
                    words = words[:-1]
                for w in words:
                    vocab[w] += 1
                    if "-" in w:
                        vocab.update(w.split("-"))
    return vocab


class Vocabulary(Counter):
    """The document's words and their counts (:func:`vocabulary`), with how many of them share an ending."""

    _endings: Counter[str] | None = None

    def ending_count(self, ending: str) -> int:
        """How many words end with ``ending`` and are longer: many for ``ing``, ``tion``, few for ``ranging``.
        The endings (up to 12 letters) of all the words are counted once."""
        if len(ending) > 12:
            return sum(1 for w in self if len(w) > len(ending) and w.endswith(ending))
        if self._endings is None:
            self._endings = Counter(w[-k:] for w in self for k in range(1, min(len(w), 13)))
        return self._endings[ending]


def join_hyphenated(left: str, right: str, vocab: Vocabulary) -> str:
    """``left`` (ending ``-``) and ``right`` joined as one word or as a compound, by the document's words.

    In order: ``manage-`` + ``ment`` → ``management`` when the document prints that word; kept
    as ``wide-reaching`` when it prints the compound, or both halves as words; kept when the left
    half is a word of four or more letters and the right one a word-like ending few of the
    document's words share (``wide-`` + ``ranging``, not ``test-`` + ``ers``); ``Non-`` + ``EU``
    keeps its hyphen (a capital after it). Otherwise joined (``regula-`` + ``tions``)."""
    head = left[:-1]
    lw = (_WORD.findall(head.lower()) or [""])[-1]
    rw = (_WORD.findall(right.lower()) or [""])[0]
    if not lw or not rw or not right[:1].isalpha() or right[:1].isupper():
        return left + right
    first = rw.split("-")[0]
    if vocab[lw + first]:
        return head + right
    if vocab[lw + "-" + rw] or vocab[lw + "-" + first]:
        return left + right
    last = lw.split("-")[-1]
    if vocab[last] and vocab[first]:
        return left + right
    if vocab[last] and len(last) >= 4 and len(first) >= 4 and vocab.ending_count(first) < 3:
        return left + right
    return head + right


def _join(left: str, right: str, vocab: Vocabulary) -> str:
    if left.endswith("\u00ad"):
        return left[:-1] + right
    if _HYPHEN_END.search(left) and right[:1].isalpha():
        head = left.rsplit(" ", 1)
        word = join_hyphenated(head[-1], right.split(" ", 1)[0], vocab)
        rest = right.split(" ", 1)[1] if " " in right else ""
        return (head[0] + " " if len(head) == 2 else "") + word + (" " + rest if rest else "")
    return left + " " + right


def _block_text(b: TextBlock, vocab: Vocabulary, body: float) -> str:
    """A block's lines as one paragraph (hyphenation joined), its marker in front; a display heading as ``## …``."""
    text = ""
    for i, ln in enumerate(b.lines):
        piece = ln.text
        if i == 0 and ln.marker:
            piece = ("- " if is_bullet(ln.marker) else ln.marker + " ") + piece
        text = piece if not text else text + "\n" + piece if b.breaks else _join(text, piece, vocab)
    if b.kind == "heading" and b.size >= HEADING_RATIO * body:
        return "## " + text
    return text


def _continues(prev: TextBlock, nxt: TextBlock, prev_text: str) -> bool:
    """True when ``nxt`` goes on with the sentence ``prev`` leaves open (a column or page break inside it)."""
    if prev.kind != "body" or nxt.kind != "body" or nxt.lines[0].marker:
        return False
    if abs(prev.size - nxt.size) > 0.08 * max(prev.size, nxt.size) or prev.bold != nxt.bold:
        return False
    return _open(prev_text) and nxt.lines[0].text[:1].islower()


def _top_of_column(page: PageText, b: TextBlock) -> bool:
    """True when no text of ``page`` (headers and footers aside) lies above ``b`` across its width."""
    return not any(o is not b and o.kind not in ("noise", "footnote") and o.bottom <= b.top + 1
                   and min(o.x1, b.x1) > max(o.x0, b.x0) for o in page.blocks)


def _join_continuations(pages: list[PageText], vocab: Vocabulary, body: float) -> set[int]:
    """Compose every block's text and join each paragraph continued at the top of a column or page to
    the paragraph it continues; returns the ids of the blocks absorbed.

    The paragraph continued is the open one (no closing punctuation) on an earlier page in the
    same column (overlapping it horizontally), else the block read just before, if it is open."""
    absorbed: set[int] = set()
    open_blocks: list[TextBlock] = []
    prev: TextBlock | None = None
    for p in pages:
        for b in p.blocks:
            if b.kind not in ("body", "heading", "cover"):
                continue
            b.pieces = [(b.lines[0].text if b.kind == "cover" else _block_text(b, vocab, body), b.page)]
            host = None
            if b.kind == "body" and _top_of_column(p, b):
                tail = b.pieces[0][0]
                same_column = [o for o in open_blocks if o.page < b.page and min(o.x1, b.x1) > max(o.x0, b.x0)]
                for o in reversed(same_column[-4:] + ([prev] if prev in open_blocks else [])):
                    if _continues(o, b, o.pieces[-1][0]):
                        host = o
                        break
            if host is not None:
                text, page = host.pieces[-1]
                joined = _join(text, tail, vocab)  # ends with tail unchanged: the page changes where tail starts
                host.pieces[-1] = (joined[:len(joined) - len(tail)], page)
                host.pieces.append((tail, b.page))
                absorbed.add(id(b))
                b = host
            if b in open_blocks:
                open_blocks.remove(b)
            if b.kind == "body" and _open(b.pieces[-1][0]):
                open_blocks.append(b)
            open_blocks = open_blocks[-12:]
            prev = b
    return absorbed


def _open(text: str) -> bool:
    end = text.rstrip().rstrip(_CLOSING)[-1:]
    return bool(end) and end not in _SENTENCE_END


def compose(pages: list[PageText]) -> tuple[str, list[int], list[int]]:
    """The document's text and its page runs.

    Returns:
        (text, run_starts, run_pages): blocks separated by blank lines; ``text[run_starts[i]:]`` up
        to the next run start lies on page ``run_pages[i]`` (a paragraph continued on the next page
        changes page inside it; a page's footnotes follow the paragraph that ends on the next page).
    """
    _mark_running(pages)
    body, body_bold = body_style(pages)
    _mark_headings(pages, body, body_bold)
    _merge_short_lines(pages)
    vocab = vocabulary(pages)
    _mark_cover(pages, body, vocab)
    absorbed = _join_continuations(pages, vocab, body)
    out: list[str] = []
    starts: list[int] = []
    runs: list[int] = []
    pos = 0

    def emit(pieces: list[tuple[str, int]]) -> None:
        nonlocal pos
        if out:
            out.append("\n\n")
            pos += 2
        for text, page in pieces:
            if not runs or runs[-1] != page:
                starts.append(pos)
                runs.append(page)
            out.append(text)
            pos += len(text)

    for p in pages:
        for b in p.blocks:
            if b.kind in ("body", "heading", "cover") and id(b) not in absorbed:
                emit(b.pieces)
        for b in p.blocks:
            if b.kind == "footnote":
                emit([(_block_text(b, vocab, body), b.page)])
    return "".join(out), starts, runs
