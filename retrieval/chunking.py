"""Passages: the unit that is embedded, indexed and quoted.

``passages_from(bulletin)`` makes one passage per paragraph. A paragraph longer than
``max_tokens`` word pieces is split at sentence boundaries (and at line breaks, which end the
entries of markdown lists) into consecutive windows; a single sentence longer than that is split
between words. Every piece is a verbatim slice of the source: ``source_text[char_start:char_end]``.

Why 200: all-MiniLM-L6-v2 truncates its input at 256 word pieces
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2, "input text longer than 256 word
pieces is truncated"), and each passage is embedded with its context (bulletin title, section,
item title) in front, so ~200 leaves room for the context and nothing of the passage is cut off.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Callable

from retrieval.intake.limits import MAX_PASSAGES_PER_FILE
from retrieval.intake.structure import Bulletin, Item, Paragraph, Section

#: Default passage length limit, in word pieces of the embedding model's tokenizer.
DEFAULT_MAX_TOKENS = 200
#: Longest run of non-space characters kept as one word when splitting (longer runs are cut).
MAX_WORD_CHARS = 500
#: The model's input window in word pieces, special tokens included (all-MiniLM-L6-v2: 256).
MODEL_WINDOW = 256

# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace,
# or at a line break. Abbreviations such as "e.g." or "Art." may cause an early split; the pieces
# stay verbatim and adjacent, so this only shortens a window.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]?$")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_LAST_WORD = re.compile(r"(?<![\w.])([A-Za-z][A-Za-z.]*)\.$")
#: Words whose trailing period does not end a sentence (legal and date abbreviations).
_ABBREVIATIONS = frozenset(
    "sec secs art arts para paras no nos e.g i.e etc vs cf fig al mr mrs ms dr st inc ltd co corp approx ca "
    "p pp ch reg regs jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k e.u".split())


def approximate_token_count(text: str) -> int:
    """Estimate word pieces without a tokenizer: words and punctuation marks, plus 25% for sub-words."""
    return int(len(_TOKEN.findall(text)) * 1.25) + 1


@dataclass(frozen=True)
class Citation:
    """Where a passage comes from. ``char_start``/``char_end`` are character offsets into the source file.

    ``date`` is ISO (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) or None; ``item_number`` and
    ``item_title`` are None for paragraphs outside a numbered item; ``paragraph`` is 1-based within
    the item (or the section); ``url`` is None when the bulletin's source URL is unknown; ``page``
    is the 1-based page of ``char_start`` for a paged source (a PDF), else None.
    """

    bulletin: str
    publisher: str | None
    date: str | None
    section: str | None
    item_number: int | None
    item_title: str | None
    paragraph: int
    url: str | None
    source_file: str
    char_start: int
    char_end: int
    page: int | None = None

    def to_dict(self) -> dict:
        """The citation as a JSON-ready dict with the keys of the ``--json`` output."""
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A verbatim slice of a bulletin paragraph with its citation and embedding context.

    Attributes:
        id: stable int64 id (>= 0), derived from source file, offsets and text.
        text: the verbatim passage text.
        citation: where it comes from.
        context: headings embedded in front of the text (bulletin title, section, item title,
            sub-heading, item fields), one per line; never quoted as the source's words.
        part: 1-based piece number when the paragraph was split, else 1; ``parts`` the count.
    """

    id: int
    text: str
    citation: Citation
    context: str
    part: int = 1
    parts: int = 1

    @property
    def embedding_text(self) -> str:
        """The string given to the encoder: the context lines, then the passage text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


def passage_id(source_file: str, char_start: int, char_end: int, text: str) -> int:
    """Stable, content-derived int64 id (63 bits, non-negative) for a passage."""
    digest = hashlib.blake2b(f"{source_file}\0{char_start}\0{char_end}\0{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def _is_abbreviation(text: str, end: int) -> bool:
    """True when text[:end] ends with an abbreviation ("Sec.", "Art.", "e.g.", an initial "J.")."""
    m = _LAST_WORD.search(text, max(0, end - 12), end)
    if not m:
        return False
    word = m.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and m.group(1).isupper())


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences (and lines) of text, whitespace between them excluded."""
    spans, start = [], 0
    for gap in re.finditer(r"\s+", text):
        if "\n" in gap.group(0) or (_SENTENCE_END.search(text, max(0, gap.start() - 2), gap.start())
                                     and not _is_abbreviation(text, gap.start())):
            if gap.start() > start:
                spans.append((start, gap.start()))
            start = gap.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@functools.lru_cache(maxsize=8192)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) spans of the sentences of text, as :func:`_sentence_spans`; cached, for the search's
    hot path (quoted passages repeat across queries)."""
    return tuple(_sentence_spans(text))


def _word_spans(text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Split text[start:end] between words into pieces of at most max_tokens."""
    pieces, piece_start, last_end = [], start, start
    # a "word" longer than MAX_WORD_CHARS (a run with no spaces) is cut into character windows
    for m in re.finditer(rf"\S{{1,{MAX_WORD_CHARS}}}", text[start:end]):
        w_end = start + m.end()
        if last_end > piece_start and count(text[piece_start:w_end]) > max_tokens:
            pieces.append((piece_start, last_end))
            piece_start = start + m.start()
        last_end = w_end
    if last_end > piece_start:
        pieces.append((piece_start, last_end))
    return pieces


def split_paragraph(text: str, max_tokens: int = DEFAULT_MAX_TOKENS,
                    count_tokens: Callable[[str], int] = approximate_token_count) -> list[tuple[int, int]]:
    """Split a paragraph into windows of whole sentences, each at most ``max_tokens`` word pieces.

    Returns:
        (start, end) character spans into ``text``, in order, covering every word of it;
        ``[(0, len(text))]`` when the paragraph fits.

    Raises:
        ValueError: when max_tokens < 8.
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be >= 8, got {max_tokens}")
    if count_tokens(text) <= max_tokens:
        return [(0, len(text))]
    units: list[tuple[int, int]] = []
    for s, e in _sentence_spans(text):
        if count_tokens(text[s:e]) > max_tokens:
            units.extend(_word_spans(text, s, e, max_tokens, count_tokens))
        else:
            units.append((s, e))
    windows: list[tuple[int, int]] = []
    cur_start, cur_end = units[0]
    for s, e in units[1:]:
        if count_tokens(text[cur_start:e]) <= max_tokens:
            cur_end = e
        else:
            windows.append((cur_start, cur_end))
            cur_start, cur_end = s, e
    windows.append((cur_start, cur_end))
    return windows


def passage_context(bulletin: Bulletin, section: Section, item: Item | None, paragraph: Paragraph) -> str:
    """The headings put in front of a passage for embedding: title, section, item, sub-heading, fields."""
    lines = [bulletin.title]
    if section.title:
        lines.append(section.title)
    if item is not None:
        if item.title:
            lines.append(item.title)
        lines.extend(item.fields)
    if paragraph.subheading:
        lines.append(paragraph.subheading)
    return "\n".join(lines)


def passages_from(bulletin: Bulletin, max_tokens: int = DEFAULT_MAX_TOKENS,
                  count_tokens: Callable[[str], int] = approximate_token_count,
                  max_passages: int | None = None) -> list[Passage]:
    """All passages of a bulletin, in reading order.

    Args:
        bulletin: a parsed bulletin.
        max_tokens: the longest passage, in word pieces as counted by ``count_tokens``.
        count_tokens: counts word pieces; pass the encoder's tokenizer for exact counts.
        max_passages: the most passages one file may give
            (:data:`~retrieval.intake.limits.MAX_PASSAGES_PER_FILE`); None: no limit. Chunking stops
            as soon as it is passed, so a huge file costs no more than the limit.

    Returns:
        Passages whose ``text == bulletin.source_text[citation.char_start:citation.char_end]``.

    Raises:
        FileLimitError: the bulletin gives more than ``max_passages`` passages.
    """
    out: list[Passage] = []
    for section, item, para in bulletin.paragraphs():
        if max_passages is not None and len(out) > max_passages:
            MAX_PASSAGES_PER_FILE.check(len(out), max_passages, bulletin.source_file)
        context = passage_context(bulletin, section, item, para)
        # context + newline + text + [CLS]/[SEP] must fit the window, or the end of the text is cut off
        budget = max(32, min(max_tokens, MODEL_WINDOW - 3 - count_tokens(context)))
        spans = split_paragraph(para.text, budget, count_tokens)
        for part, (s, e) in enumerate(spans, start=1):
            start, end = para.char_start + s, para.char_start + e
            text = bulletin.source_text[start:end]
            citation = Citation(
                bulletin=bulletin.title, publisher=bulletin.publisher, date=bulletin.date,
                section=section.title, item_number=item.number if item else None,
                item_title=item.title if item else None, paragraph=para.number, url=bulletin.url,
                source_file=bulletin.source_file, char_start=start, char_end=end, page=bulletin.page_at(start),
            )
            out.append(Passage(passage_id(bulletin.source_file, start, end, text), text, citation,
                               context, part, len(spans)))
    if max_passages is not None:
        MAX_PASSAGES_PER_FILE.check(len(out), max_passages, bulletin.source_file)
    return out
