"""Bulletins and their structure: bulletin → sections → numbered items → paragraphs.

``parse_bulletin(text, source, metadata)`` turns the text of one bulletin (plain text or markdown)
into a :class:`Bulletin`. ``read_bulletin(path)`` reads a file and its metadata and parses it,
raising :class:`~retrieval.errors.BulletinParseError` (with file and line) on bad input.

This module gathers the public names of the modules that do the work, one job each:

- :mod:`retrieval.structure` — the model: :class:`Bulletin`, :class:`Section`, :class:`Item`, :class:`Paragraph`;
- :mod:`retrieval.parser` — :func:`parse_bulletin` (how blocks are classified is documented there);
- :mod:`retrieval.metadata` — the ``.meta.toml`` sidecar and front matter;
- :mod:`retrieval.text` — :func:`normalise_space`, :func:`is_iso_date`, :func:`decode_bulletin_bytes`;
- :mod:`retrieval.sources` — which files are bulletins (:data:`~retrieval.sources.EXTRACTORS`, a table
  from file ending to extractor), :func:`read_bulletin` and :func:`find_bulletin_files`.
"""

from __future__ import annotations

from .metadata import METADATA_KEYS, METADATA_SUFFIX, read_metadata
from .parser import parse_bulletin
from .sources import BULLETIN_SUFFIXES, EXTRACTORS, HTML_SUFFIXES, find_bulletin_files, read_bulletin
from .structure import Bulletin, Item, Paragraph, Section
from .text import decode_bulletin_bytes, is_iso_date, normalise_space

__all__ = [
    "BULLETIN_SUFFIXES", "EXTRACTORS", "HTML_SUFFIXES", "METADATA_KEYS", "METADATA_SUFFIX", "Bulletin", "Item",
    "Paragraph", "Section", "decode_bulletin_bytes", "find_bulletin_files", "is_iso_date", "normalise_space",
    "parse_bulletin", "read_bulletin", "read_metadata",
]
