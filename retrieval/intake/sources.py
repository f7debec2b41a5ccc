"""Bulletin files: which files are bulletins, and how each kind becomes text.

:data:`EXTRACTORS` maps a file name ending to the function that turns the file's bytes into
bulletin text and the metadata the file itself carries (e.g. an HTML page's ``<title>``). A
directory is scanned for names ending in one of its keys; a file named directly is read with the
extractor of its ending, or as text. A new kind of bulletin (PDF, e-mail) is one module with an
extractor and one line in :data:`EXTRACTORS`.

``read_bulletin(path)`` reads a file and its sidecar metadata and parses it, raising
:class:`~retrieval.errors.BulletinParseError` (with file and line) on bad input.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from retrieval.errors import BulletinParseError
from retrieval.text import decode_bulletin_bytes

from .limits import file_limits
from .metadata import read_metadata
from .parser import parse_bulletin
from .structure import Bulletin

log = logging.getLogger("retrieval.intake")  # the name its warnings always had

#: An extractor: (file bytes, file name for errors) → (bulletin text, metadata found in the file).
#: It raises :class:`~retrieval.errors.BulletinParseError` for a file it cannot read.
Extractor = Callable[[bytes, str], "tuple[str, dict[str, str]]"]


def extract_text(data: bytes, file: str) -> tuple[str, dict[str, str]]:
    """A plain-text or markdown bulletin: its bytes decoded (front matter is left to the parser)."""
    return decode_bulletin_bytes(data, file), {}


def extract_html(data: bytes, file: str) -> tuple[str, dict[str, str]]:
    """An HTML bulletin: its visible text (:func:`retrieval.intake.html.html_to_text`) and ``<title>``/``<meta>`` metadata."""
    from .html import html_to_text

    text, page_meta = html_to_text(decode_bulletin_bytes(data, file))
    if not text.strip():
        raise BulletinParseError(file, "the HTML page has no visible text")
    return text, page_meta


def extract_pdf(data: bytes, file: str) -> tuple[str, dict[str, str]]:
    """A PDF bulletin: its text layer (:func:`retrieval.intake.pdf.pdf_to_text`), Title/CreationDate and page offsets."""
    from .pdf import pdf_to_text

    if not data.strip():
        raise BulletinParseError(file, "the file is empty")
    return pdf_to_text(data, file)


def extract_eml(data: bytes, file: str) -> tuple[str, dict[str, str]]:
    """An e-mail newsletter: its HTML (else text) part's text and Subject/Date/sender metadata (:mod:`retrieval.intake.email`)."""
    from .email import eml_to_text

    return eml_to_text(data, file)


#: File name ending (lower case) → extractor. One line per kind of bulletin file.
EXTRACTORS: dict[str, Extractor] = {
    ".txt": extract_text,
    ".md": extract_text,
    ".markdown": extract_text,
    ".html": extract_html,
    ".htm": extract_html,
    ".pdf": extract_pdf,
    ".eml": extract_eml,
}
#: File name endings read as bulletins by :func:`find_bulletin_files`.
BULLETIN_SUFFIXES = tuple(EXTRACTORS)
#: Endings read as HTML (their visible text is extracted first, see :mod:`retrieval.intake.html`).
HTML_SUFFIXES = tuple(s for s, extract in EXTRACTORS.items() if extract is extract_html)


def extractor_for(path: str | Path) -> Extractor:
    """The extractor for a file by its name's ending; :func:`extract_text` for an ending not in the table."""
    name = Path(path).name.lower()
    return next((EXTRACTORS[s] for s in sorted(EXTRACTORS, key=len, reverse=True) if name.endswith(s)), extract_text)


def is_bulletin_file(path: Path) -> bool:
    """True for a regular, non-hidden file whose name ends in a key of :data:`EXTRACTORS`."""
    return path.is_file() and path.name.lower().endswith(tuple(EXTRACTORS)) and not path.name.startswith(".")


def read_bulletin(path: str | Path) -> Bulletin:
    """Read and parse one bulletin file with its sidecar metadata.

    The extractor of the file's ending (:data:`EXTRACTORS`) turns its bytes into text. An
    ``.html``/``.htm`` file is turned into text by :func:`retrieval.intake.html.html_to_text`; its
    ``<title>`` and ``<meta>`` date/URL/publisher fill in what the sidecar does not give, and
    citation offsets then index the extracted text. A ``.pdf`` likewise (:mod:`retrieval.intake.pdf`): its
    Title and CreationDate fill in, and its passages carry their page.

    Raises:
        BulletinParseError: unreadable, empty, binary, non-UTF-8 or unparseable file, or bad metadata.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise BulletinParseError(str(path), "not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BulletinParseError(str(path), f"cannot read the file: {exc.strerror or exc}") from None
    text, file_meta = extractor_for(path)(data, str(path))
    file_limits().check(str(path), "characters", len(text))
    page_starts = file_meta.pop("page_starts", None)
    page_numbers = file_meta.pop("page_numbers", None)
    file_date_source = file_meta.pop("date_source", "metadata")
    warnings = [w for w in file_meta.pop("warnings", "").split("\n") if w]
    attachments = file_meta.pop("attachments", None)
    if attachments:
        log.warning("%s: its PDF attachment(s) %s are not part of this bulletin; drop the e-mail into the inbox "
                    "(bulletin-bot ingest --watch) or save them beside it to ingest them", path, attachments)
    sidecar = read_metadata(path)
    metadata = {**file_meta, **sidecar}
    try:
        bulletin = parse_bulletin(text, path.name, metadata)
    except BulletinParseError as exc:
        raise BulletinParseError(str(path), exc.reason, exc.line) from None
    if page_starts:
        bulletin.page_starts = [int(s) for s in page_starts.split(",")]
        bulletin.page_numbers = [int(s) for s in page_numbers.split(",")] if page_numbers else None
    if bulletin.date is None:
        bulletin.date_source = "none"
    elif sidecar.get("date") or not file_meta.get("date"):
        bulletin.date_source = "sidecar"  # the sidecar, or the front matter (the file's own header)
    else:
        bulletin.date_source = file_date_source
    bulletin.warnings = warnings
    if bulletin.date_source == "metadata":
        bulletin.warnings.append(f"{path}: its date {bulletin.date} comes only from the file's metadata (when the "
                                 "file was made, not what it says); give it a sidecar date if that is wrong")
    for w in bulletin.warnings:
        log.info("%s", w)  # the ingest report carries them to the user
    if bulletin.has_metadata and bulletin.date is None:
        log.warning("%s: its metadata gives no date (a sidecar date, or front matter date/published_date); "
                    "the date is unknown", path)
    return bulletin


def find_bulletin_files(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and directories into bulletin files.

    Returns:
        (bulletin files sorted by name, directories that were scanned). A directory is scanned
        non-recursively for names ending in a key of :data:`EXTRACTORS`; a file named directly is
        taken whatever its ending.
    """
    files: list[Path] = []
    dirs: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        if str(raw).strip() == "":
            raise BulletinParseError("''", "an empty path was given")
        p = Path(raw)
        if p.resolve() in seen:
            continue
        seen.add(p.resolve())
        if p.is_dir():
            dirs.append(p)
            files.extend(sorted(f for f in p.iterdir() if is_bulletin_file(f)))
        else:
            files.append(p)
    return files, dirs
