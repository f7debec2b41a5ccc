"""Bulletin metadata: the ``<stem>.meta.toml`` sidecar and ``---`` (or TOML ``+++``) front matter, validated.

``read_metadata(path)`` reads the sidecar beside a bulletin; ``front_matter(text)`` reads front matter;
``validate_metadata(meta, file)`` keeps the :data:`METADATA_KEYS` and checks their values (a date
must be a real ISO date). Errors are :class:`~retrieval.errors.BulletinParseError` with file and line.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found]

from retrieval.errors import BulletinParseError
from retrieval.text import is_iso_date

#: Sidecar metadata file: ``<bulletin stem>.meta.toml`` beside the bulletin.
METADATA_SUFFIX = ".meta.toml"
#: Metadata keys a sidecar or front matter may set.
METADATA_KEYS = ("title", "publisher", "date", "url", "provenance")


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """Parse front matter: ``---``-delimited ``key: value`` lines, or ``+++``-delimited TOML (Hugo).

    Returns:
        (metadata with lower-case keys and text values, offset of the body). TOML values that are
        dates become ISO text; lists and tables are left out.

    Raises:
        BulletinParseError: front matter that is never closed, or a line (or TOML) that does not parse.
    """
    if text.startswith("+++"):
        return _toml_front_matter(text)
    if not text.startswith("---"):
        return {}, 0
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "---":
        return {}, 0
    meta: dict[str, str] = {}
    pos = first_nl + 1
    line_no = 2
    while pos < len(text):
        nl = text.find("\n", pos)
        nl = len(text) if nl < 0 else nl
        line = text[pos:nl]
        if line.strip() == "---":
            return meta, nl + 1
        if line.strip() and not line.lstrip().startswith("#") and not line[:1].isspace() and not line.startswith("- "):
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise BulletinParseError("", f"front matter line is not 'key: value': {line.strip()!r}", line_no)
            meta[key.strip().lower()] = value.strip().strip("\"'")
        pos = nl + 1
        line_no += 1
    raise BulletinParseError("", "front matter opened with '---' is never closed", 1)


def _toml_front_matter(text: str) -> tuple[dict[str, str], int]:
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "+++":
        return {}, 0
    close = re.search(r"^\+\+\+[ \t]*$", text[first_nl + 1:], re.MULTILINE)
    if close is None:
        raise BulletinParseError("", "front matter opened with '+++' is never closed", 1)
    body = text[first_nl + 1: first_nl + 1 + close.start()]
    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise BulletinParseError("", f"front matter is not valid TOML: {exc}", int(m.group(1)) + 1 if m else 1) from None
    meta: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, (datetime, date)):
            meta[key.lower()] = value.isoformat()
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            meta[key.lower()] = str(value)
    end = first_nl + 1 + close.end()
    return meta, end + 1 if text[end:end + 1] == "\n" else end


def validate_metadata(meta: dict, file: str) -> dict[str, str]:
    out = {}
    for key, value in meta.items():
        if key not in METADATA_KEYS:
            continue
        out[key] = str(value).strip()
    for key, value in meta.items():
        if key in METADATA_KEYS and not isinstance(value, (str, int)):
            raise BulletinParseError(file, f"metadata {key} must be text, got {type(value).__name__} {value!r}")
    date = out.get("date")
    if date and not is_iso_date(date):
        raise BulletinParseError(file, f"metadata date must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got {date!r}")
    return out


def read_metadata(path: Path) -> dict[str, str]:
    """Read the sidecar ``<stem>.meta.toml`` beside a bulletin; {} when there is none.

    Raises:
        BulletinParseError: when the sidecar is not valid TOML (with its line), or a value is bad.
    """
    sidecar = path.with_name(path.stem + METADATA_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BulletinParseError(str(sidecar), f"cannot read the metadata file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        m = re.search(r"line (\d+)", str(exc))
        raise BulletinParseError(str(sidecar), f"invalid metadata: {exc}", line or (int(m.group(1)) if m else None)) from None
    return validate_metadata(data, str(sidecar))
