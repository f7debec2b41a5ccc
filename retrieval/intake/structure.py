"""The bulletin model: bulletin → sections → numbered items → paragraphs (plain dataclasses).

Built by :func:`retrieval.intake.parser.parse_bulletin`; every :class:`Paragraph` is a verbatim slice of
its bulletin's ``source_text``. This module imports nothing else of ``retrieval``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """A verbatim block of item (or section) text.

    ``number`` is 1-based within its item, or within its section when it belongs to no item;
    ``char_start``/``char_end`` are offsets into the bulletin's source text (characters, not bytes);
    ``line`` is the 1-based line of its first character; ``subheading`` the sub-heading above it.
    """

    number: int
    text: str
    char_start: int
    char_end: int
    line: int
    subheading: str | None = None


@dataclass
class Item:
    """One entry of a section: its number (as printed, or its position for bullets), title and paragraphs.

    ``fields`` holds short ``Label: value`` lines printed under the title (e.g. ``Date: April 24, 2025``).
    """

    number: int
    title: str | None
    line: int
    paragraphs: list[Paragraph] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    char_start: int = 0  # offset of the item's heading line in the source


@dataclass
class Section:
    """A heading inside a bulletin, with its items and any paragraphs that belong to no item.

    ``title`` is None for the text before the first heading (an introduction).
    """

    title: str | None
    line: int
    items: list[Item] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Bulletin:
    """One issue of a newsletter.

    Attributes:
        source_file: the file name (no directory); the bulletin's key in the index.
        source_text: the whole file as read (UTF-8 decoded); paragraph offsets point into it.
        title, publisher, date, url: metadata; ``date`` is ISO ``YYYY``, ``YYYY-MM`` or
            ``YYYY-MM-DD``, or None when unknown.
        has_metadata: False when neither a sidecar nor front matter was found (title then comes
            from the first line and the date is unknown).
        page_starts: for a paged source (a PDF), the offset in ``source_text`` where each page
            (1, 2, …) begins, ascending; None for unpaged text.
        notes: what of the file could not be read, one sentence each (e.g. an e-mail part in an
            unknown charset); the rest is the bulletin. Ingest reports them as warnings.
        date_source: where ``date`` came from: ``sidecar``, ``document``, ``metadata`` or ``none``
            (see :mod:`retrieval.intake.dates`).
    """

    source_file: str
    source_text: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    byline: str | None = None
    has_metadata: bool = False
    sections: list[Section] = field(default_factory=list)
    page_starts: list[int] | None = None
    notes: list[str] = field(default_factory=list)
    date_source: str = "none"

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding source_text[offset], or None for unpaged text."""
        if not self.page_starts:
            return None
        import bisect

        return max(1, bisect.bisect_right(self.page_starts, offset))

    def paragraphs(self) -> list[tuple[Section, Item | None, Paragraph]]:
        """Every paragraph in reading order, with its section and item (None outside items)."""
        out: list[tuple[Section, Item | None, Paragraph]] = []
        for section in self.sections:
            for p in section.paragraphs:
                out.append((section, None, p))
            for item in section.items:
                for p in item.paragraphs:
                    out.append((section, item, p))
        out.sort(key=lambda t: t[2].char_start)
        return out
