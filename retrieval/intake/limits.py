"""Bounds on the work one bulletin file may cause: pages, characters and passages.

A file over a limit is that file's error (:class:`~retrieval.errors.BulletinParseError`), in one
sentence naming the limit and the setting that raises it; the other files still ingest. The same
limits hold wherever a file comes from: ``bulletin-bot ingest``, the watched inbox and Slack
uploads all go through :func:`retrieval.ingest.ingest`.

Settings (read from the environment each time :func:`file_limits` is called, like the retrieval
package's other ``BULLETIN_BOT_*`` variables; see ``bot/config.py``)::

    BULLETIN_BOT_MAX_PAGES      pages of one PDF (default 5000)
    BULLETIN_BOT_MAX_CHARS      characters of text in one bulletin file (default 10,000,000)
    BULLETIN_BOT_MAX_PASSAGES   passages one bulletin file may make (default 50,000)

Why these defaults: a 2,000-page PDF of full pages (about 6 million characters, 10,000 passages)
ingests within about 300 MB (``benchmarks/bench_pdf_memory.py``), and embedding 50,000 passages
takes about ten minutes on two cores; more than that from one file is a mistake or an attack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from retrieval.errors import BulletinParseError, ConfigurationError

PAGES_ENV = "BULLETIN_BOT_MAX_PAGES"
CHARS_ENV = "BULLETIN_BOT_MAX_CHARS"
PASSAGES_ENV = "BULLETIN_BOT_MAX_PASSAGES"


@dataclass(frozen=True)
class FileLimits:
    """Per-file bounds; each is a positive int."""

    max_pages: int = 5000
    max_chars: int = 10_000_000
    max_passages: int = 50_000

    def check(self, file: str, what: str, count: int) -> None:
        """Raise :class:`BulletinParseError` for ``file`` when ``count`` of ``what`` (pages, characters,
        passages) is over its limit."""
        limit, env = {"pages": (self.max_pages, PAGES_ENV), "characters": (self.max_chars, CHARS_ENV),
                      "passages": (self.max_passages, PASSAGES_ENV)}[what]
        if count > limit:
            unit = what[:-1] if limit == 1 else what
            raise BulletinParseError(file, f"too large: {count:,} {what}, more than the limit of {limit:,} {unit} per "
                                           f"file (set {env} to raise it)")


def file_limits(environ: Mapping[str, str] | None = None) -> FileLimits:
    """The limits in force: :class:`FileLimits` defaults, overridden by the environment.

    Raises:
        ConfigurationError: a variable that is not a positive whole number (named, with its value).
    """
    env = os.environ if environ is None else environ
    values = {}
    for field, name in (("max_pages", PAGES_ENV), ("max_chars", CHARS_ENV), ("max_passages", PASSAGES_ENV)):
        raw = (env.get(name) or "").strip().replace("_", "").replace(",", "")
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigurationError(f"{name} must be a whole number >= 1, got {env.get(name)!r}")
        values[field] = int(raw)
    return FileLimits(**values)
