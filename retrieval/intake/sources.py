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
from typing import Callable, Sequence

from retrieval.errors import BulletinParseError
from retrieval.text import decode_bulletin_bytes

from .dates import file_name_date
from .metadata import read_metadata
from .parser import parse_bulletin
from .structure import Bulletin

log = logging.getLogger("retrieval.intake")  # the name its warnings always had

#: An extractor: (file bytes, file name for errors) → (bulletin text, metadata found in the file).
#: It raises :class:`~retrieval.errors.BulletinParseError` for a file it cannot read. A ``date`` in
#: its metadata is taken when neither the sidecar nor the text gives one; ``date_source`` says
#: whether the document states it (``document``: an e-mail's Date header, a PDF's printed first
#: page) or only the file's metadata does (``metadata``, the default: a PDF's CreationDate, an
#: HTML ``<meta>`` date). See :mod:`retrieval.intake.dates`.
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
#: Endings whose text is markdown, read by the markdown parser (:mod:`retrieval.intake.markdown`).
MARKDOWN_SUFFIXES = (".md", ".markdown")
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
    ``<title>`` and ``<meta>`` date/URL/publisher fill in what the sidecar and the document do not
    give (the date: sidecar > printed in the document > file metadata or name, with
    ``bulletin.date_source`` saying which; see :mod:`retrieval.intake.dates`), and
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
    page_starts = file_meta.pop("page_starts", None)
    unread = file_meta.pop("unread", None)
    attachments = file_meta.pop("attachments", None)
    if attachments:
        log.warning("%s: its PDF attachment(s) %s are not part of this bulletin; drop the e-mail into the inbox "
                    "(bulletin-bot ingest --watch) or save them beside it to ingest them", path, attachments)
    sidecar = read_metadata(path)
    if not file_meta.get("date") and (named := file_name_date(path.name)):
        file_meta = {**file_meta, "date": named, "date_source": "metadata"}
    try:
        bulletin = parse_bulletin(text, path.name, sidecar, markdown=path.name.lower().endswith(MARKDOWN_SUFFIXES),
                                  fallback=file_meta)
    except BulletinParseError as exc:
        raise BulletinParseError(str(path), exc.reason, exc.line) from None
    if page_starts:
        bulletin.page_starts = [int(s) for s in page_starts.split(",")]
    if unread:
        bulletin.notes = unread.split("\n")
    if bulletin.has_metadata and bulletin.date is None:
        log.warning("%s: its metadata gives no date (a sidecar date, or front matter date/published_date); "
                    "the date is unknown", path)
    return bulletin


def find_bulletin_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and directories into bulletin files.

    Returns:
        (bulletin files sorted by name, directories that were scanned). A directory is scanned
        non-recursively for names ending in a key of :data:`EXTRACTORS`; a file named directly is
        taken whatever its ending. A broken symbolic link with a bulletin ending (one that loops, or
        leads nowhere) is returned too, so that reading it reports it (:func:`unreadable_link`)
        instead of it being skipped unseen.
    """
    files: list[Path] = []
    dirs: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        if str(raw).strip() == "":
            raise BulletinParseError("''", "an empty path was given")
        p = Path(raw)
        key = _resolved(p)
        if key in seen:
            continue
        seen.add(key)
        if p.is_dir():
            dirs.append(p)
            files.extend(sorted(f for f in p.iterdir() if is_bulletin_file(f) or _broken_bulletin_link(f)))
        else:
            files.append(p)
    return files, dirs


def _resolved(path: Path) -> Path:
    """``path.resolve()``, or its absolute form when it cannot be resolved (a symbolic link loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _broken_bulletin_link(path: Path) -> bool:
    return (path.is_symlink() and not path.name.startswith(".") and path.name.lower().endswith(tuple(EXTRACTORS))
            and unreadable_link(path) is not None)


def unreadable_link(path: Path) -> str | None:
    """Why the symbolic link ``path`` cannot be read ("a symbolic link that loops …", "… to X, which does
    not exist"), or None when ``path`` is no symbolic link or leads to something."""
    import errno
    import os

    if not path.is_symlink():
        return None
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops (it leads back to itself), so there is nothing to read"
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"a symbolic link to {target}, which does not exist"
    return None


def no_bulletin_files(directory: Path) -> str:
    """The error for a scanned directory that holds no bulletin file."""
    return f"no bulletin files in {directory} (files ending {', '.join(BULLETIN_SUFFIXES)})"
