"""Errors raised by the retrieval package.

Hierarchy::

    RetrievalError                 base class; catch this to handle any retrieval failure
    ├── BulletinParseError         a bulletin file cannot be read or parsed (carries file and line)
    │   └── FileLimitError         a file is past a per-file limit (retrieval.intake.limits): refused whole
    ├── IndexNotFoundError         no index generation exists in the data directory yet
    ├── IndexMismatchError         an index generation is inconsistent (counts, ids, model, dimension)
    └── ConfigurationError         a bad argument or setting (e.g. top_k <= 0, unknown filter)
        └── FilterError            a filter the asker wrote is wrong (``as_of:2024-13``): tell them the message

Every message is one sentence a user can act on; none carries a traceback's worth of detail.
"""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class of every error the retrieval package raises on purpose."""


class BulletinParseError(RetrievalError):
    """A bulletin file could not be read or parsed.

    Attributes:
        file: path of the offending file, as given.
        line: 1-based line number where the problem lies, or None when it concerns the whole file.
        reason: the problem, without the location.
    """

    def __init__(self, file: str, reason: str, line: int | None = None):
        self.file = str(file)
        self.line = line
        self.reason = reason
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {reason}")


class FileLimitError(BulletinParseError):
    """A bulletin file is past a per-file limit (:mod:`retrieval.intake.limits`) and is refused whole.

    Attributes:
        limit: the :class:`~retrieval.intake.limits.Limit` (its ``what`` and ``env`` name it).
        value: what the file reached (at least the limit plus one; counting may stop there).
    """

    def __init__(self, file: str, reason: str, *, limit: object, value: int):
        super().__init__(file, reason)
        self.limit, self.value = limit, value


class IndexNotFoundError(RetrievalError):
    """No index generation exists yet in the data directory."""

    def __init__(self, data_dir: str):
        self.data_dir = str(data_dir)
        super().__init__("no bulletins indexed yet — run `bulletin-bot ingest`" f" (data directory: {self.data_dir})")


class IndexMismatchError(RetrievalError):
    """An index generation failed its consistency checks and must not be served."""


class ConfigurationError(RetrievalError, ValueError):
    """A bad argument or setting; the message names it and echoes the bad value."""


class FilterError(ConfigurationError):
    """A filter written by the asker (in the question or as an option) is wrong: an unknown key, a date
    that is not real or not written YYYY, YYYY-MM or YYYY-MM-DD, an "as of" date that cannot be read.
    The message is meant for the asker (the Slack bot shows it to them)."""
