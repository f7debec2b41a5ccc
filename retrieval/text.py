"""Text helpers shared by the parser, metadata, HTML extraction, filters and search.

- :func:`normalise_space` folds runs of whitespace;
- :func:`is_iso_date` checks an ISO ``YYYY``/``YYYY-MM``/``YYYY-MM-DD`` date;
- :data:`LINK` finds a link written in the text (a URL, a bare domain or file name, a markdown link target);
- :func:`decode_bulletin_bytes` decodes a bulletin file's bytes the way ``open(..., encoding="utf-8")`` does.

This module imports nothing else of ``retrieval`` but its errors, so any module may use it.
"""

from __future__ import annotations

import re
from datetime import datetime

from .errors import BulletinParseError

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


_WS = re.compile(r"\s+")

#: A link written in a passage: a URL (``https://…``, ``www.…``), a bare domain or file name (``gov.uk/…``,
#: ``report.pdf``) or a markdown link target (``](uber_case.md)``). Its words are no prose: a company's name in
#: lower case inside a URL says nothing about how the bulletin writes that name.
LINK = re.compile(r"\]\([^)\s]*\)|(?:https?://|www\.)\S+|\S+\.(?:com|org|net|gov|eu|uk|de|fr|nl|pdf|html?|md)\b\S*")


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace (non-breaking spaces included) into one space, and strip.

    Also importable from :mod:`retrieval.intake` (where it was first defined) and :mod:`retrieval.intake.posts`."""
    return _WS.sub(" ", text).strip()


def is_iso_date(value: str) -> bool:
    """True for a real calendar date written ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` in ASCII digits
    (2024-02-30 is not; nor is full-width ``２０２４``, which would compare wrongly as a string)."""
    if not value.isascii() or not _DATE.match(value):
        return False
    fmt = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}[len(value)]
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def compare_dates(a: str, b: str) -> int:
    """-1, 0 or 1 as ISO date ``a`` is before, at or after ``b`` at the precision both have
    (``2024-08`` is at ``2024``, and at ``2024-08-31``): how filters and later developments compare dates."""
    n = min(len(a), len(b))
    return (a[:n] > b[:n]) - (a[:n] < b[:n])


def decode_bulletin_bytes(data: bytes, file: str) -> str:
    """Decode a bulletin file's bytes as UTF-8 text, the way ``open(path, encoding="utf-8").read()`` does.

    Line endings are universal (``\r\n`` and ``\r`` become ``\n``) and a BOM stays as U+FEFF, so
    citation offsets index the text a reader gets from ``open(path, encoding="utf-8").read()``.

    Raises:
        BulletinParseError: for an empty file, UTF-16 text, a PDF, a binary file (NUL bytes) or
            bytes that are not UTF-8 (naming the line of the first bad byte).
    """
    if not data.strip():
        raise BulletinParseError(file, "the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BulletinParseError(file, "UTF-16 text: save the file as UTF-8")
    if data.startswith(b"%PDF"):
        raise BulletinParseError(file, "a PDF file with another ending: name it .pdf to ingest it as a PDF")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise BulletinParseError(file, "binary file (contains NUL bytes), not a text bulletin", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BulletinParseError(file, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
