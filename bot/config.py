"""The bot's settings: :meth:`Settings.from_env` is the one reader of ``os.environ`` for the bot.

Variables (a ``.env`` file in the working directory fills in any that the environment lacks)::

    SLACK_BOT_TOKEN           xoxb-…  Web API token (required)
    SLACK_APP_TOKEN           xapp-…  app-level token; when set, ``serve`` uses Socket Mode
    SLACK_SIGNING_SECRET      verifies HTTP requests (required for ``serve --http``)
    SLACK_API_URL             Web API base URL (default https://slack.com/api/; GovSlack and tests use another)
    SLACK_FILES_URL           the only origin uploaded files are downloaded from, with the bot token (default
                              https://files.<SLACK_API_URL's host>/, i.e. https://files.slack.com/; https only,
                              plain http only for a loopback test server)
    BULLETIN_BOT_TOP_K        hits quoted per answer, 1..10 (default 3)
    BULLETIN_BOT_WORKERS      answer worker threads, 1..64 (default 4)
    BULLETIN_BOT_QUEUE_SIZE   questions waiting for a free worker, 1..10000 (default 100); past it: "I'm busy"
    BULLETIN_BOT_FOLLOW_THREADS  1/true: answer un-mentioned messages in threads the bot answered (default off)
    BULLETIN_BOT_DEDUPE_SECONDS  how long event ids and (channel, ts) are remembered, >= 600 (default 3600)
    BULLETIN_BOT_RATE_LIMIT_RETRIES  retries of a rate-limited Web API call, 0..10 (default 3)
    BULLETIN_BOT_RETENTION_DAYS  days stored questions, answers, votes and threads are kept, 1..3650 (default 90)
    BULLETIN_BOT_DATABASE_URL  postgresql://user:password@host:port/db: state in PostgreSQL (default: bot.sqlite)
    DIGEST_CHANNELS           comma-separated channel ids that get the daily digest (default none: no digest)
    DIGEST_TIME               local posting time HH:MM, 24-hour (default 09:00)
    DIGEST_TZ                 IANA time zone of DIGEST_TIME and of the digest date (default UTC)
    DIGEST_FIRST_DAYS         a channel's first digest lists bulletins ingested in the last N days, 1..365 (default 7)
    DIGEST_POST_EMPTY         1/true: post "nothing new" on days without new items (default off: skip the day)
    BULLETIN_BOT_INBOX_DIR    the folder ``serve`` watches for dropped bulletin files (default DATA_DIR/inbox)
    BULLETIN_BOT_INGEST_ALLOWED_USERS  comma-separated user ids who may upload bulletins to the bot (default nobody)
    BULLETIN_BOT_UPLOAD_MAX_MB  largest bulletin file the bot takes in an upload, 1..1000 MB (default 20)

Tokens, the signing secret and the database URL (its password) never appear in ``repr()`` or in logs.

Serving and logging (:class:`LogSettings` needs no token, so every command reads it)::

    BULLETIN_BOT_HTTP_HOST    address ``serve`` listens on (default 0.0.0.0)
    BULLETIN_BOT_HTTP_PORT    port of /slack/events (HTTP mode) and /healthz, /readyz (both modes), 1..65535 (default 3000)
    BULLETIN_BOT_HTTP_CONNECTION_LIMIT  connections the HTTP server accepts at once, 10..100000 (default 1000)
    BULLETIN_BOT_HTTP_IDLE_TIMEOUT  seconds before a connection that sends nothing is closed, 1..3600 (default 15)
    LOG_LEVEL                 DEBUG, INFO, WARNING, ERROR or CRITICAL (default WARNING; -v INFO, -vv DEBUG win)
    LOG_FORMAT                text (default) or json (one JSON object per line)
    LOG_QUESTIONS             1/true: put the question text in the per-answer log line, and keep it and the
                              asker's user id in the answer record (the audit trail) (default off)

Searching (:class:`SearchSettings` needs no token either: ``ask`` and ``eval`` read it too)::

    BULLETIN_BOT_FAISS_THREADS  faiss' OpenMP threads for a search, 1..256 (default 1: fastest for one query at a time)

Ingesting (:class:`IngestSettings` needs no token: ``ingest`` reads it; ``serve`` for its inbox and uploads)::

    BULLETIN_BOT_MAX_PASSAGES_PER_FILE  passages one bulletin file may give, 1..10000000 (default 10000); a file past
                              it is refused whole (:mod:`retrieval.intake.limits`)
    BULLETIN_BOT_MAX_PAGES_PER_FILE     pages of one PDF, 1..10000000 (default 5000); counted before it is parsed
    BULLETIN_BOT_MAX_CHARS_PER_FILE     characters of text one file may give, 1..1000000000 (default 10000000)

Nothing else of the project reads the environment, but for two readers named here: the click options
(``--data-dir``/``BULLETIN_BOT_DATA_DIR``, ``--model``/``BULLETIN_BOT_MODEL``, ``--inbox``/``BULLETIN_BOT_INBOX_DIR``)
and the encoder factory, :mod:`retrieval.encoders.factory` (``BULLETIN_BOT_MODEL``, ``BULLETIN_BOT_ENCODER``,
``BULLETIN_BOT_ONNX_DIR``). The data directory alone, without the rest: :func:`data_dir_from_env`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping, TypedDict
from urllib.parse import urlparse

from retrieval.errors import ConfigurationError
from retrieval.intake.limits import MAX_CHARS_PER_FILE, MAX_PAGES_PER_FILE, MAX_PASSAGES_PER_FILE

DEFAULT_API_URL = "https://slack.com/api/"
#: Defaults of BULLETIN_BOT_HTTP_CONNECTION_LIMIT and BULLETIN_BOT_HTTP_IDLE_TIMEOUT (why: bot.server.http_server).
CONNECTION_LIMIT = 1000
IDLE_TIMEOUT = 15
#: Where Slack serves uploaded files (``url_private``) for the default Web API.
DEFAULT_FILES_URL = "https://files.slack.com/"
#: Slack retries an unacknowledged event up to 3 times over about 5 minutes
#: (https://api.slack.com/apis/events-api#retries); remember events at least twice that long.
MIN_DEDUPE_SECONDS = 600


class SettingsError(ConfigurationError):
    """A missing or malformed setting; the message names the variable and echoes the bad value (never a secret)."""


@dataclass(frozen=True)
class Settings:
    """Everything ``bulletin-bot serve`` needs to know, validated.

    Attributes:
        bot_token: ``SLACK_BOT_TOKEN`` (xoxb-…); hidden from repr.
        app_token: ``SLACK_APP_TOKEN`` (xapp-…) or None; hidden from repr.
        signing_secret: ``SLACK_SIGNING_SECRET`` or None; hidden from repr.
        api_url: Web API base URL, always ending in "/".
        files_url: the origin (``scheme://host[:port]/``) of Slack's file server: an upload is downloaded,
            with the bot token, only from a URL on it (:mod:`bot.slack.listeners.uploads`).
        data_dir: where index generations and ``bot.sqlite`` live.
        http_host: address ``serve`` listens on (HTTP mode; health endpoints in both modes).
        http_port: port for /slack/events (HTTP mode) and /healthz, /readyz (1..65535; 0 in tests: any).
        http_connection_limit: connections the HTTP server accepts at once (:mod:`bot.server.http_server`).
        http_idle_timeout: seconds before the HTTP server closes a connection that sends nothing.
        log_questions: put the question text in the per-answer log line, and keep it and the asker in the
            answer record (:func:`bot.slack.listeners.reply.record_shown`).
        top_k: hits quoted per answer (1..10).
        workers: threads answering questions (1..64).
        queue_size: questions that may wait for a free worker (1..10000); past that the asker is told
            to try again in a minute.
        follow_threads: answer messages without a mention in threads the bot answered.
        dedupe_seconds: how long an event id or a (channel, ts) is remembered (>= 600 s).
        rate_limit_retries: retries of a Web API call answered with HTTP 429 (0..10).
        retention_days: days the store keeps questions, answers, votes and threads (1..3650).
        database_url: ``BULLETIN_BOT_DATABASE_URL`` (``postgresql://…``): the state lives in PostgreSQL
            (:class:`bot.state.postgres.PgStore`, shared by replicas); None: SQLite in ``bot.sqlite``. Hidden from repr.
        digest_channels: channel ids that get the daily digest (empty: no digest is scheduled).
        digest_time: local posting time "HH:MM" in ``digest_tz``.
        digest_tz: IANA time zone name (checked with :mod:`zoneinfo`).
        digest_first_days: a channel's first digest covers bulletins ingested in the last N days (1..365).
        digest_post_empty: post "nothing new" instead of skipping a day without new items.
        inbox_dir: the watched inbox folder (None: ``data_dir / "inbox"``; see :attr:`inbox_path`).
        ingest_allowed_users: user ids who may add bulletins by uploading a file (empty: nobody).
        upload_max_mb: the largest uploaded file taken, in MB (1..1000).
        faiss_threads: faiss' OpenMP threads for a search (:class:`SearchSettings`).
        max_passages_per_file: the most passages one bulletin file may give (:class:`IngestSettings`).
        max_pages_per_file, max_chars_per_file: the most pages of one PDF, characters of one file (:class:`IngestSettings`).
    """

    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    files_url: str = DEFAULT_FILES_URL
    data_dir: Path = Path("./data")
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    http_connection_limit: int = CONNECTION_LIMIT
    http_idle_timeout: int = IDLE_TIMEOUT
    log_questions: bool = False
    top_k: int = 3
    workers: int = 4
    queue_size: int = 100
    follow_threads: bool = False
    dedupe_seconds: int = 3600
    rate_limit_retries: int = 3
    retention_days: int = 90
    database_url: str | None = field(default=None, repr=False)
    digest_channels: tuple[str, ...] = ()
    digest_time: str = "09:00"
    digest_tz: str = "UTC"
    digest_first_days: int = 7
    digest_post_empty: bool = False
    inbox_dir: Path | None = None
    ingest_allowed_users: tuple[str, ...] = ()
    upload_max_mb: int = 20
    faiss_threads: int = 1
    max_passages_per_file: int = MAX_PASSAGES_PER_FILE.default
    max_pages_per_file: int = MAX_PAGES_PER_FILE.default
    max_chars_per_file: int = MAX_CHARS_PER_FILE.default

    def ingest_limits(self) -> "IngestLimits":
        """The per-file limits as the keyword arguments of :func:`retrieval.ingest.ingest`."""
        return {"max_passages_per_file": self.max_passages_per_file, "max_pages_per_file": self.max_pages_per_file,
                "max_chars_per_file": self.max_chars_per_file}

    @property
    def inbox_path(self) -> Path:
        """The watched inbox folder: ``inbox_dir``, else ``data_dir / "inbox"``."""
        return Path(self.inbox_dir) if self.inbox_dir else Path(self.data_dir) / "inbox"

    @property
    def store_path(self) -> Path:
        """The bot's SQLite state file: ``data_dir / "bot.sqlite"``."""
        return Path(self.data_dir) / "bot.sqlite"

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set (``serve`` then uses Socket Mode unless told ``--http``)."""
        return bool(self.app_token)

    def require_signing_secret(self) -> str:
        """The signing secret, or :class:`SettingsError` when HTTP mode has none."""
        if not self.signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify Slack's requests")
        return self.signing_secret

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: str | Path | None = ".env",
                 require_token: bool = True, **overrides) -> "Settings":
        """Read and validate the settings.

        Args:
            environ: the variables (default ``os.environ``); they win over the ``.env`` file.
            dotenv: a ``.env`` file whose values fill in missing variables (None: none read).
            require_token: False lets ``SLACK_BOT_TOKEN`` be missing (``bot_token`` is then ""), for
                commands that never call Slack such as ``digest --dry-run``.
            overrides: field values that win over both (e.g. ``data_dir`` from the command line).

        Raises:
            SettingsError: a required variable is missing or a value is malformed.
        """
        get = _getter(environ, dotenv)

        bot_token = get("SLACK_BOT_TOKEN")
        if not bot_token and require_token:
            raise SettingsError("SLACK_BOT_TOKEN is not set; put the bot token (xoxb-…) in the environment or .env")
        if bot_token and not bot_token.startswith("xox"):
            raise SettingsError("SLACK_BOT_TOKEN does not look like a Slack token (it should start with xoxb-)")
        app_token = get("SLACK_APP_TOKEN")
        if app_token and not app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-)")
        api_url = get("SLACK_API_URL") or DEFAULT_API_URL
        parsed = urlparse(api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
        values = dict(
            bot_token=bot_token or "", app_token=app_token, signing_secret=get("SLACK_SIGNING_SECRET"),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            files_url=_files_url(get, "SLACK_FILES_URL", parsed.hostname or ""),
            data_dir=Path(get("BULLETIN_BOT_DATA_DIR") or "./data"),
            http_host=get("BULLETIN_BOT_HTTP_HOST") or "0.0.0.0",
            http_port=_int(get, "BULLETIN_BOT_HTTP_PORT", 3000, 1, 65535),
            http_connection_limit=_int(get, "BULLETIN_BOT_HTTP_CONNECTION_LIMIT", CONNECTION_LIMIT, 10, 100000),
            http_idle_timeout=_int(get, "BULLETIN_BOT_HTTP_IDLE_TIMEOUT", IDLE_TIMEOUT, 1, 3600),
            log_questions=LogSettings.read(get).questions,
            top_k=_int(get, "BULLETIN_BOT_TOP_K", 3, 1, 10),
            workers=_int(get, "BULLETIN_BOT_WORKERS", 4, 1, 64),
            queue_size=_int(get, "BULLETIN_BOT_QUEUE_SIZE", 100, 1, 10000),
            follow_threads=_bool(get, "BULLETIN_BOT_FOLLOW_THREADS"),
            dedupe_seconds=_int(get, "BULLETIN_BOT_DEDUPE_SECONDS", 3600, MIN_DEDUPE_SECONDS, 7 * 86400),
            rate_limit_retries=_int(get, "BULLETIN_BOT_RATE_LIMIT_RETRIES", 3, 0, 10),
            retention_days=_int(get, "BULLETIN_BOT_RETENTION_DAYS", 90, 1, 3650),
            database_url=_database_url(get, "BULLETIN_BOT_DATABASE_URL"),
            digest_channels=_ids(get, "DIGEST_CHANNELS", "channel ids such as C0123ABCD"),
            digest_time=_hhmm(get, "DIGEST_TIME", "09:00"),
            digest_tz=_zone(get, "DIGEST_TZ", "UTC"),
            digest_first_days=_int(get, "DIGEST_FIRST_DAYS", 7, 1, 365),
            digest_post_empty=_bool(get, "DIGEST_POST_EMPTY"),
            inbox_dir=Path(get("BULLETIN_BOT_INBOX_DIR")) if get("BULLETIN_BOT_INBOX_DIR") else None,
            ingest_allowed_users=_ids(get, "BULLETIN_BOT_INGEST_ALLOWED_USERS", "user ids such as U0123ABCD"),
            upload_max_mb=_int(get, "BULLETIN_BOT_UPLOAD_MAX_MB", 20, 1, 1000),
            faiss_threads=SearchSettings.read(get).faiss_threads,
            **IngestSettings.read(get).ingest_limits(),
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["data_dir"] = Path(values["data_dir"])
        return cls(**values)


#: Variables whose values are secrets: masked in every log record (see :mod:`bot.logs`).
SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class LogSettings:
    """How the command line logs; needs no Slack token, so every command reads it before running.

    Attributes:
        level: ``LOG_LEVEL`` (one of :data:`LOG_LEVELS`), or None when unset.
        format: ``LOG_FORMAT``: "text" (default) or "json" (one JSON object per line).
        questions: ``LOG_QUESTIONS``: the per-answer log line includes the question text.
        secrets: the values of :data:`SECRET_VARIABLES` that are set, and the database URL's password,
            for redaction; hidden from repr.
    """

    level: str | None = None
    format: str = "text"
    questions: bool = False
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 dotenv: str | Path | None = ".env") -> "LogSettings":
        """Read and validate the logging variables (same sources and precedence as :meth:`Settings.from_env`).

        Raises:
            SettingsError: LOG_LEVEL, LOG_FORMAT or LOG_QUESTIONS is malformed.
        """
        return cls.read(_getter(environ, dotenv))

    @classmethod
    def read(cls, get) -> "LogSettings":
        """Like :meth:`from_env`, from a ``get(name) -> str | None`` lookup."""
        level = get("LOG_LEVEL")
        if level is not None and level.upper() not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
        fmt = (get("LOG_FORMAT") or "text").lower()
        if fmt not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT must be text or json, got {fmt!r}")
        secrets = tuple(v for v in (get(name) for name in SECRET_VARIABLES) if v)
        secrets += database_password(get("BULLETIN_BOT_DATABASE_URL"))
        return cls(level.upper() if level else None, fmt, _bool(get, "LOG_QUESTIONS"), secrets)


@dataclass(frozen=True)
class SearchSettings:
    """How a :class:`~retrieval.search.searcher.Searcher` runs; needs no Slack token (``ask``, ``eval``, ``serve``).

    Attributes:
        faiss_threads: ``BULLETIN_BOT_FAISS_THREADS``, faiss' OpenMP threads for a search (default 1).
    """

    faiss_threads: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 dotenv: str | Path | None = ".env") -> "SearchSettings":
        """Read and validate the search variables (same sources and precedence as :meth:`Settings.from_env`).

        Raises:
            SettingsError: BULLETIN_BOT_FAISS_THREADS is malformed.
        """
        return cls.read(_getter(environ, dotenv))

    @classmethod
    def read(cls, get) -> "SearchSettings":
        """Like :meth:`from_env`, from a ``get(name) -> str | None`` lookup."""
        return cls(_int(get, "BULLETIN_BOT_FAISS_THREADS", 1, 1, 256))


class IngestLimits(TypedDict):
    """The per-file limits, as :func:`retrieval.ingest.ingest` takes them."""

    max_passages_per_file: int
    max_pages_per_file: int
    max_chars_per_file: int


@dataclass(frozen=True)
class IngestSettings:
    """How much one bulletin file may make an ingest do (:mod:`retrieval.intake.limits`); needs no Slack token.

    Attributes:
        max_passages_per_file: ``BULLETIN_BOT_MAX_PASSAGES_PER_FILE`` (default 10,000).
        max_pages_per_file: ``BULLETIN_BOT_MAX_PAGES_PER_FILE`` (default 5,000).
        max_chars_per_file: ``BULLETIN_BOT_MAX_CHARS_PER_FILE`` (default 10,000,000).
    """

    max_passages_per_file: int = MAX_PASSAGES_PER_FILE.default
    max_pages_per_file: int = MAX_PAGES_PER_FILE.default
    max_chars_per_file: int = MAX_CHARS_PER_FILE.default

    def ingest_limits(self) -> "IngestLimits":
        """The limits as the keyword arguments of :func:`retrieval.ingest.ingest`."""
        return {"max_passages_per_file": self.max_passages_per_file, "max_pages_per_file": self.max_pages_per_file,
                "max_chars_per_file": self.max_chars_per_file}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 dotenv: str | Path | None = ".env") -> "IngestSettings":
        """Read and validate the ingest variables (same sources and precedence as :meth:`Settings.from_env`).

        Raises:
            SettingsError: a BULLETIN_BOT_MAX_*_PER_FILE variable is malformed.
        """
        return cls.read(_getter(environ, dotenv))

    @classmethod
    def read(cls, get) -> "IngestSettings":
        """Like :meth:`from_env`, from a ``get(name) -> str | None`` lookup."""
        return cls(*(_int(get, limit.env, limit.default, limit.low, limit.high)
                     for limit in (MAX_PASSAGES_PER_FILE, MAX_PAGES_PER_FILE, MAX_CHARS_PER_FILE)))


def data_dir_from_env(environ: Mapping[str, str] | None = None, dotenv: str | Path | None = ".env") -> Path:
    """``BULLETIN_BOT_DATA_DIR`` (default ``./data``), for a caller that cannot read the other settings
    (``doctor``, when they are malformed)."""
    return Path(_getter(environ, dotenv)("BULLETIN_BOT_DATA_DIR") or "./data")


def _getter(environ: Mapping[str, str] | None, dotenv: str | Path | None):
    """``get(name)``: the stripped value from ``environ`` (default ``os.environ``), else from the
    ``dotenv`` file, else None (empty counts as unset)."""
    env: dict[str, str] = {}
    if dotenv is not None and Path(dotenv).is_file():
        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    return lambda name: (env.get(name) or "").strip() or None


def _int(get, name: str, default: int, low: int, high: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer between {low} and {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(get, name: str) -> bool:
    raw = (get(name) or "0").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _ids(get, name: str, what: str) -> tuple[str, ...]:
    """Comma-separated Slack ids (channels ``C123,C456``, users ``U123``), order kept, duplicates dropped."""
    raw = get(name) or ""
    out = tuple(dict.fromkeys(c.strip() for c in raw.split(",") if c.strip()))
    bad = [c for c in out if not re.fullmatch(r"[A-Z][A-Z0-9]+", c)]
    if bad:
        raise SettingsError(f"{name} must list {what}, separated by commas, got {bad[0]!r}")
    return out


def _hhmm(get, name: str, default: str) -> str:
    """A 24-hour local time ``HH:MM`` (00:00..23:59), returned zero-padded."""
    raw = get(name) or default
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise SettingsError(f"{name} must be a time HH:MM between 00:00 and 23:59, got {raw!r}")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _zone(get, name: str, default: str) -> str:
    """An IANA time zone name that :mod:`zoneinfo` knows (``Asia/Shanghai``, ``UTC``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    raw = get(name) or default
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise SettingsError(f"{name} must be an IANA time zone such as Asia/Shanghai or UTC, got {raw!r}") from None
    return raw


def _files_url(get, name: str, api_host: str) -> str:
    """The origin ``scheme://host[:port]/`` files are downloaded from: the variable, else
    ``https://files.<api host>/`` (``slack.com`` → ``files.slack.com``, ``slack-gov.com`` → ``files.slack-gov.com``).
    https only; plain http only for a loopback host (a test server), so the bot token never travels in clear."""
    raw = get(name)
    if raw is None:
        host = api_host[4:] if api_host.startswith("api.") else api_host
        return f"https://files.{host}/" if host else DEFAULT_FILES_URL
    parsed = urlparse(raw)
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if not parsed.hostname or parsed.scheme not in ("http", "https") or (parsed.scheme == "http" and not loopback):
        raise SettingsError(f"{name} must be an https URL such as https://files.slack.com/ (plain http only for a "
                            f"loopback test server), got {raw!r}")
    return f"{parsed.scheme}://{parsed.netloc}/"


def _database_url(get, name: str) -> str | None:
    """A ``postgresql://`` (or ``postgres://``) URL with a host, or None; the message never echoes the URL."""
    raw = get(name)
    if raw is None:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in ("postgresql", "postgres") or not (parsed.hostname or "host=" in parsed.query):
        shown = f"a {parsed.scheme}:// URL" if parsed.scheme else "no URL scheme"
        raise SettingsError(f"{name} must be a postgresql://user:password@host:5432/database URL (unset: SQLite in "
                            f"the data directory), got {shown}")
    return raw


def database_password(url: str | None) -> tuple[str, ...]:
    """The password of a database URL, as written and percent-decoded, for log redaction (empty when none)."""
    from urllib.parse import unquote

    password = urlparse(url).password if url else None
    return tuple(dict.fromkeys((password, unquote(password)))) if password else ()
