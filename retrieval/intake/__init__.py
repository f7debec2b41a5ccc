"""Intake: bulletin files → :class:`Bulletin` → sections → numbered items → paragraphs.

``read_bulletin(path)`` reads a file (its extractor chosen by file ending), its metadata, and parses it,
raising :class:`~retrieval.errors.BulletinParseError` (with file and line) on bad input;
``parse_bulletin(text, source, metadata)`` parses text already extracted (plain text or markdown).

The modules, one job each:

- :mod:`.sources` — which files are bulletins (:data:`~retrieval.intake.sources.EXTRACTORS`, a table
  from file ending to extractor), :func:`read_bulletin` and :func:`find_bulletin_files`;
- :mod:`.html`, :mod:`.pdf`, :mod:`.email` — the extractors: a file's text and the metadata it carries
  (a PDF's reading order: :mod:`.pdf_layout` one page's geometry, :mod:`.pdf_document` the whole
  document, :mod:`.pdf_engines` the text engines);
- :mod:`.parser` — :func:`parse_bulletin` (how blocks are classified is documented there), with
  :mod:`.posts` for blog posts (items per sub-heading, sub-bullets, truncated previews);
- :mod:`.metadata` — the ``.meta.toml`` sidecar and front matter;
- :mod:`.limits` — bounded work per file (:class:`~retrieval.intake.limits.Limit`: passages, pages and characters
  per file, and the setting that raises each);
- :mod:`.structure` — the model: :class:`Bulletin`, :class:`Section`, :class:`Item`, :class:`Paragraph`.
"""

from __future__ import annotations

from .parser import parse_bulletin
from .sources import EXTRACTORS, find_bulletin_files, read_bulletin
from .structure import Bulletin, Item, Paragraph, Section

__all__ = ["EXTRACTORS", "Bulletin", "Item", "Paragraph", "Section", "find_bulletin_files", "parse_bulletin",
           "read_bulletin"]
