"""Log output: text or JSON lines, with every secret masked. Used only by :mod:`bot.cli.options`.

:func:`configure` puts one handler on the root logger, with a :class:`RedactingFilter` (so records
from every library — slack_sdk, bolt, urllib3 — pass through it) and a formatter:

- ``text``: ``2025-01-02 03:04:05,678 INFO bot.slack.listeners: answer surface=mention channel=C1 …``
- ``json``: ``{"time": "2025-01-02T03:04:05.678Z", "level": "INFO", "logger": "bot.slack.listeners",
  "message": "answer surface=mention …", "surface": "mention", "channel": "C1", …}`` — the fields a
  caller passes with ``extra=`` become keys of their own.

What is masked: each configured secret value (``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``,
``SLACK_SIGNING_SECRET``), and anything shaped like a Slack token (``xoxb-…``, ``xoxp-…``, ``xapp-…``,
``xoxa-``/``xoxr-``/``xoxs-``/``xoxe-``), in the message, its arguments, string ``extra`` fields, the
exception text and the stack.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Iterable, TextIO

#: Anything shaped like a Slack token: bot, user, app-level, legacy workspace/refresh tokens.
TOKEN_PATTERN = re.compile(r"\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]+")
MASK = "[redacted]"
#: Secrets shorter than this are not masked (masking "ab" would garble every log line).
MIN_SECRET_LENGTH = 6
#: The attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class RedactingFilter(logging.Filter):
    """Masks secrets in a record before any formatter sees it (the record is changed in place).

    Args:
        secrets: exact values to mask wherever they appear (shorter than :data:`MIN_SECRET_LENGTH`: ignored).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every configured secret and token-shaped string replaced by :data:`MASK`."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return TOKEN_PATTERN.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep what we can, never drop the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601, ms), level, logger, message, the ``extra=``
    fields, and ``exc_info`` / ``stack_info`` text when present."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and k not in out})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc_info"] = record.exc_text
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _OwnHandler(logging.StreamHandler):
    """The handler :func:`make_handler` makes: :func:`configure` replaces its own, never another's."""


def make_handler(fmt: str = "text", secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (default stderr) with the ``fmt`` formatter ("text" or "json") and redaction.

    Raises:
        ValueError: ``fmt`` is neither "text" nor "json".
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be text or json, got {fmt!r}")
    handler = _OwnHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    return handler


def configure(level: str | int = "WARNING", fmt: str = "text", secrets: Iterable[str] = (),
              stream: TextIO | None = None) -> logging.Handler:
    """Route all logging to one redacting handler on the root logger; returns it.

    Calling it again replaces the handler an earlier call installed (other handlers, such as
    pytest's, are left alone).

    Args:
        level: a level name ("INFO") or number, set on the root logger.
        fmt: "text" or "json".
        secrets: values to mask in every record (tokens, signing secret).
        stream: where lines go (default: ``sys.stderr`` at the time of the call).
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OwnHandler)]:
        root.removeHandler(old)
    level = level.upper() if isinstance(level, str) else level
    handler = make_handler(fmt, secrets, stream)
    handler.setLevel(level)  # also for libraries that set their own logger lower (bm25s logs DEBUG)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
