"""Bounded work per bulletin file: how much one file may make an ingest do, and the setting that raises it.

One file — a 66 MB e-mail, a PDF of one endless line — must not make the bot embed for hours or grow
without bound: each :class:`Limit` caps one quantity per file. A file past a limit is refused whole
with :class:`~retrieval.errors.FileLimitError` (a :class:`~retrieval.errors.BulletinParseError`, so
ingest reports it as that file's error and the other files still ingest), whose one sentence names
the limit, what the file reached, and the variable that raises it. Uploads and the inbox go through
the same ingest, so through the same limits.

The limits, each set by a variable that :mod:`bot.config` reads (the retrieval package never reads
the environment) and handed to :func:`retrieval.ingest.ingest` by its callers (``ingest``, ``ingest
--watch``, ``serve``'s inbox and uploads)::

    BULLETIN_BOT_MAX_PASSAGES_PER_FILE   passages one bulletin file may give, 1..10000000 (default 10000)

Add a limit (pages, characters…) by defining another :class:`Limit` here, its variable in
:mod:`bot.config`, and calling :meth:`Limit.check` where the quantity is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.errors import ConfigurationError, FileLimitError


@dataclass(frozen=True)
class Limit:
    """A cap on one quantity per bulletin file.

    Attributes:
        what: the quantity counted, plural, as it reads in a sentence ("passages").
        env: the variable that sets it (read by :mod:`bot.config`; named in the refusal).
        default: the value when neither the caller nor the variable gives one.
        low, high: the values the variable may take (inclusive).
    """

    what: str
    env: str
    default: int
    low: int = 1
    high: int = 10_000_000

    def value(self, given: int | None) -> int:
        """The limit in force: ``given`` (a caller's, e.g. from the settings), else the default.

        Raises:
            ConfigurationError: ``given`` is not an integer in ``low..high`` (the message names the limit).
        """
        if given is None:
            return self.default
        if isinstance(given, bool) or not isinstance(given, int) or not self.low <= given <= self.high:
            raise ConfigurationError(f"the limit of {self.what} per file ({self.env}) must be an integer between "
                                     f"{self.low} and {self.high}, got {given!r}")
        return given

    def check(self, count: int, limit: int, file: str) -> None:
        """Raise :class:`FileLimitError` when ``count`` exceeds ``limit`` (as :meth:`value` gave it).

        The message: "it gives more than 10,000 passages, the limit per bulletin file (set
        BULLETIN_BOT_MAX_PASSAGES_PER_FILE to raise it); nothing of it was ingested".
        """
        if count > limit:
            raise FileLimitError(file, f"it gives more than {limit:,} {self.what}, the limit per bulletin file "
                                       f"(set {self.env} to raise it); nothing of it was ingested",
                                 limit=self, value=count)


#: Passages one file may give. Embedding costs ~28 ms a passage on 2 CPU cores (all-MiniLM-L6-v2,
#: benchmarks/README.md), so 10,000 passages are ~5 minutes of embedding; the 66 MB e-mail of issue 18
#: gave 360,000 (~3 hours).
MAX_PASSAGES_PER_FILE = Limit("passages", "BULLETIN_BOT_MAX_PASSAGES_PER_FILE", 10_000)
