"""Bounded work per bulletin file: how much one file may make an ingest do, and the setting that raises it.

One file — a 66 MB e-mail, a PDF of one endless line — must not make the bot embed for hours or grow
without bound: each :class:`Limit` caps one quantity per file. A file past a limit is refused whole
with :class:`~retrieval.errors.FileLimitError` (a :class:`~retrieval.errors.BulletinParseError`, so
ingest reports it as that file's error and the other files still ingest), whose one sentence names
the limit, what the file reached, and the variable that raises it. Uploads and the inbox go through
the same ingest, so through the same limits.

The limits (environment variables, read when a limit is resolved; an explicit value wins)::

    BULLETIN_BOT_MAX_PASSAGES_PER_FILE   passages one bulletin file may give, 1..10000000 (default 10000)

A limit is resolved like the encoder backend (:func:`retrieval.encoders.factory.make_encoder`): the
caller's value, else the variable, else the default; a malformed variable is a
:class:`~retrieval.errors.ConfigurationError` naming it and echoing the value. Add a limit (pages,
characters…) by defining another :class:`Limit` here and calling :meth:`Limit.check` where the
quantity is counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from retrieval.errors import ConfigurationError, FileLimitError


@dataclass(frozen=True)
class Limit:
    """A cap on one quantity per bulletin file.

    Attributes:
        what: the quantity counted, plural, as it reads in a sentence ("passages").
        env: the environment variable that sets it.
        default: the value when neither the caller nor the variable gives one.
        low, high: the values the variable may take (inclusive).
    """

    what: str
    env: str
    default: int
    low: int = 1
    high: int = 10_000_000

    def resolve(self, value: int | None = None, environ: Mapping[str, str] | None = None) -> int:
        """The limit in force: ``value``, else ``$env`` (from ``environ``, default ``os.environ``), else the default.

        Raises:
            ConfigurationError: the value (given or from the variable) is not an integer in ``low..high``.
        """
        source = f"{self.env}" if value is None else f"the limit of {self.what} per file"
        raw: object = value
        if raw is None:
            raw = ((os.environ if environ is None else environ).get(self.env) or "").strip() or None
        if raw is None:
            return self.default
        try:
            number = int(str(raw).replace("_", ""))
        except ValueError:
            raise ConfigurationError(f"{source} must be an integer between {self.low} and {self.high}, "
                                     f"got {raw!r}") from None
        if not self.low <= number <= self.high:
            raise ConfigurationError(f"{source} must be between {self.low} and {self.high}, got {number}")
        return number

    def check(self, count: int, limit: int, file: str) -> None:
        """Raise :class:`FileLimitError` when ``count`` exceeds ``limit`` (as :meth:`resolve` gave it).

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
