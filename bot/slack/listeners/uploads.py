"""Bulletins uploaded to the bot: a file shared in a DM, or in a channel message that mentions the bot.

Only the users in ``BULLETIN_BOT_INGEST_ALLOWED_USERS`` may add bulletins; anyone else is told who can.
A file is taken when its name ends in a key of :data:`retrieval.intake.sources.EXTRACTORS` and it is no larger
than ``BULLETIN_BOT_UPLOAD_MAX_MB``. The bot asks ``files.info`` (through the app's WebClient), downloads
``url_private_download`` (else ``url_private``) with the bot token in an ``Authorization: Bearer``
header — only from Slack's file server (``SLACK_FILES_URL``, by default ``https://files.slack.com/``:
that scheme, host and port, nothing else; no ``file:``, no other host, a redirect only over the same
scheme and without the token once it leaves that host; an ``is_external`` file, a link to Google Drive
or Dropbox, is refused) — saves the file into the inbox folder atomically (a hidden temporary name, then ``os.replace``)
and ingests it at once on an answer worker, with the ingest call ``ingest --watch`` uses. The reply in
the thread says what was added (title, date, items, passages), or one sentence saying why not. The
upload's caption is not answered as a question.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.config import DEFAULT_FILES_URL
from bot.slack import blocks
from bot.state.protocol import event_keys
from retrieval.intake.sources import EXTRACTORS, read_bulletin

from .reply import error_code
from .upload_store import Stored, store_upload

log = logging.getLogger("bot.slack.listeners")

DOWNLOAD_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Uploads:
    """What the upload surface needs.

    Attributes:
        allowed_users: Slack user ids who may add bulletins (empty: nobody).
        max_bytes: the largest file taken.
        folder: the inbox folder uploads are saved into (created if missing).
        ingest: ``ingest(files) -> IngestReport``, the call ``ingest --watch`` makes.
        files_url: the origin of Slack's file server (``Settings.files_url``); the only place a file is
            downloaded from, and the only place the bot token is sent.
    """

    allowed_users: tuple[str, ...]
    max_bytes: int
    folder: Path
    ingest: Callable[[list[Path]], object]
    files_url: str = DEFAULT_FILES_URL


class SignInPage(ValueError):
    """Slack answered a file download with its HTML sign-in page instead of the file."""


class OffSlack(ValueError):
    """A download link that is not on Slack's file server (another scheme, host or port)."""


def has_files(event: dict) -> bool:
    """True when a message or mention event shares files (``files``, subtype ``file_share``)."""
    return bool(event.get("files"))


def take_upload(deps, event: dict, body: dict, client, thread_ts: str | None) -> None:
    """Dedupe the event like a question, then queue the upload on the answer workers."""
    channel, ts = event["channel"], event["ts"]
    if not deps.store.claim(event_keys(body.get("event_id"), channel, ts)):
        log.info("duplicate upload event %s (channel %s, ts %s) ignored", body.get("event_id"), channel, ts)
        return
    log.info("upload in %s from %s (%d file(s))", channel, event.get("user"), len(event.get("files") or []))
    deps.submit(handle_upload, body, client, None, deps, client, channel, thread_ts or ts, event.get("user"),
                list(event.get("files") or []))


def handle_upload(deps, client, channel: str, thread_ts: str, user: str | None, files: list[dict]) -> None:
    """Add each shared file as a bulletin (when ``user`` may) and reply in the thread, one sentence per file."""
    uploads: Uploads | None = deps.uploads
    if uploads is None or user not in uploads.allowed_users:
        allowed = uploads.allowed_users if uploads is not None else ()
        text = (f"Only {', '.join(f'<@{u}>' for u in allowed)} can add bulletins." if allowed else
                "Nobody can add bulletins here yet: an administrator must set BULLETIN_BOT_INGEST_ALLOWED_USERS.")
        _reply(client, channel, thread_ts, text, raw=True)
        return
    lines = []
    for file in files:
        try:
            lines.append(add_file(deps, uploads, client, file, user))
        except Exception:  # noqa: BLE001 - the uploader hears back, whatever went wrong
            log.exception("adding the uploaded file %s failed", file.get("id"))
            lines.append(f"I could not add {file.get('name') or 'that file'}: something went wrong "
                         "(the error has been logged).")
    _reply(client, channel, thread_ts, "\n".join(lines))


def add_file(deps, uploads: Uploads, client, file: dict, user: str | None = None) -> str:
    """Fetch, save and ingest one shared file; the one sentence to reply with (what was added, or why not)."""
    name = file.get("name") or file.get("id") or "that file"
    try:
        info = client.files_info(file=file["id"])["file"]
    except SlackApiError as exc:
        log.warning("files.info %s failed: %s", file.get("id"), error_code(exc))
        return f"I could not get {name} from Slack ({error_code(exc) or 'error'}), so nothing was added."
    name = info.get("name") or name
    suffixes = sorted(EXTRACTORS)
    if not name.lower().endswith(tuple(suffixes)):
        return f"I cannot add {name}: I take only {', '.join(suffixes)} files."
    limit_mb = uploads.max_bytes // (1024 * 1024)
    if int(info.get("size") or 0) > uploads.max_bytes:
        return f"I cannot add {name}: it is larger than the {limit_mb} MB limit."
    if info.get("is_external"):
        kind = str(info.get("external_type") or "").strip()
        return (f"I cannot add {name}: it is a link to a file kept outside Slack{f' ({kind})' if kind else ''}, "
                "not an upload; upload the file itself.")
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        return f"I could not download {name} from Slack (it has no download link), so nothing was added."
    try:
        data = download(url, client.token, uploads.max_bytes, uploads.files_url, int(info.get("size") or 0) or None)
    except OffSlack:
        return f"I cannot add {name}: its download link does not point to Slack's file server, so nothing was added."
    except SignInPage:
        return f"Slack sent a sign-in page instead of {name}: the app needs the files:read scope (reinstall it)."
    except ValueError:
        return f"I cannot add {name}: it is larger than the {limit_mb} MB limit."
    except OSError as exc:
        log.warning("downloading %s failed: %s", name, getattr(exc, "reason", None) or exc.__class__.__name__)
        return f"I could not download {name} from Slack, so nothing was added; please try again."
    stored = store_upload(uploads.folder, name, data, user=user, file_id=info.get("id") or file.get("id"),
                          taken=_indexed_elsewhere(deps, uploads.folder))
    report = uploads.ingest([stored.path])
    return describe(deps, stored.path, report, stored, name)


def on_files_server(url: str, files_url: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``files_url`` (and no user name or password)."""
    try:
        got, want = urllib.parse.urlsplit(url), urllib.parse.urlsplit(files_url)
        ports = {"https": 443, "http": 80}
        return (got.scheme.lower() == want.scheme.lower() and bool(got.hostname) and got.hostname == want.hostname
                and (got.port or ports.get(got.scheme.lower())) == (want.port or ports.get(want.scheme.lower()))
                and got.username is None and got.password is None)
    except ValueError:  # a malformed port
        return False


def download(url: str, token: str | None, max_bytes: int, files_url: str = DEFAULT_FILES_URL,
             expected_size: int | None = None) -> bytes:
    """GET ``url`` with ``Authorization: Bearer <token>``; its bytes (ValueError past ``max_bytes``).

    Only a URL on ``files_url`` (scheme, host and port) is fetched; the opener knows no other scheme
    (no ``file:``, ``ftp:``, ``data:``), follows a redirect only over the same scheme, and sends the
    token only to the host it was meant for. ``expected_size`` (files.info's ``size``) tells the file
    from a sign-in page (:func:`is_sign_in_page`).

    Raises:
        OffSlack: ``url`` is not on ``files_url`` (nothing was sent).
        OSError: the request failed (urllib.error.URLError, HTTPError, a timeout, a refused redirect).
        SignInPage: Slack answered with its sign-in page (the token lacks files:read).
        ValueError: the file is larger than ``max_bytes``.
    """
    if not on_files_server(url, files_url):
        parts = urllib.parse.urlsplit(url)
        log.warning("refused to download an upload from %s://%s (not Slack's file server %s)",
                    parts.scheme, parts.hostname, files_url)
        raise OffSlack(url)
    scheme = urllib.parse.urlsplit(files_url).scheme.lower()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token or ''}"})
    opener = urllib.request.OpenerDirector()
    handlers = [urllib.request.ProxyHandler(), urllib.request.HTTPSHandler(), _SameHostAuth(scheme),
                urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()]
    if scheme == "http":  # a loopback test server only (Settings refuses plain http elsewhere)
        handlers.append(urllib.request.HTTPHandler())
    for handler in handlers:
        opener.add_handler(handler)
    with opener.open(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        html = (response.headers.get("Content-Type") or "").lower().startswith("text/html")
        data = response.read(max_bytes + 1)
    if html and is_sign_in_page(data, urllib.parse.urlsplit(url).path, expected_size):
        raise SignInPage("Slack answered with a sign-in page")
    if len(data) > max_bytes:
        raise ValueError("too large")
    return data


_HTML_DOCUMENT = re.compile(rb"^(\xef\xbb\xbf)?\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)
_SIGN_IN = re.compile(rb"<title[^>]*>[^<]*\b(sign[ -]?in|log[ -]?in)\b|/signin\b|\bsignin_form\b", re.IGNORECASE)


def is_sign_in_page(data: bytes, path: str, expected_size: int | None) -> bool:
    """True when a ``text/html`` answer to a file download is Slack's sign-in page, not the file.

    A file named ``.html``/``.htm`` is HTML and never one. Otherwise the answer must be an HTML
    document (it starts with ``<!DOCTYPE html`` or ``<html``: a markdown bulletin that mentions a tag
    is not) and either not be the size files.info gave, or say it is a sign-in page (a title with
    "sign in"/"log in", a ``/signin`` link or form).
    """
    if path.lower().endswith((".html", ".htm")) or not _HTML_DOCUMENT.match(data[:4096]):
        return False
    return (expected_size is not None and len(data) != expected_size) or bool(_SIGN_IN.search(data[:65536]))


class _SameHostAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects over ``scheme`` only (https → http is refused), and send the bot token only to
    the host it was meant for."""

    def __init__(self, scheme: str = "https") -> None:
        self.scheme = scheme

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl)).scheme.lower() != self.scheme:
            log.warning("refused a redirect of an upload download away from %s", self.scheme)
            return None  # the 30x then fails as an HTTPError: "could not download"
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def _indexed_elsewhere(deps, folder: Path) -> set[str]:
    """Names of the bulletins indexed from files outside the inbox ``folder`` (an upload must not take them)."""
    try:
        here = Path(folder).resolve()
        return {b.source_file for b in deps.searcher.index.bulletins() if Path(b.path).parent != here}
    except Exception:  # noqa: BLE001 - nothing indexed yet, or the index cannot be read: no names taken
        return set()


def describe(deps, path: Path, report, stored: Stored | None = None, uploaded: str | None = None) -> str:
    """One sentence about what ingesting ``path`` did: added or updated (title, date, items, passages), or
    why not; and, when the upload ``uploaded`` was stored under another name (``stored``), which and why."""
    name = path.name
    uploaded = uploaded or name
    errors = [e for e in getattr(report, "errors", []) if Path(e["file"]).name == name]
    if errors:
        return f"I could not add {uploaded}: {errors[0]['error']}."
    if getattr(report, "refused", None):
        return f"I could not add {uploaded}: {report.refused}."
    bulletin = read_bulletin(path)
    items = sum(len(s.items) for s in bulletin.sections)
    try:
        passages = len(deps.searcher.index.passage_ids_by_bulletin().get(name, []))
    except Exception:  # noqa: BLE001 - the count is a courtesy; the ingest happened
        passages = getattr(report, "passages_added", 0)
    verb = ("Added" if name in report.added else "Updated" if name in report.updated
            else "Already had, unchanged:")
    if stored is not None and stored.replaced and verb != "Added":
        verb = f"{verb} your {uploaded}," if verb == "Updated" else f"Already had your {uploaded}, unchanged:"
    dated = f" ({bulletin.date})" if bulletin.date else " (no date)"
    where = ""
    if stored is not None and stored.clash:
        where = (f", stored as {name} because another bulletin named {stored.clash} is already there "
                 "(both are kept)")
    elif stored is not None and stored.unnamed:
        where = f", stored as {name} because {uploaded} has no usable name before its ending"
    unread = f" Not read: {'; '.join(bulletin.notes)}." if bulletin.notes else ""
    return (f"{verb} “{bulletin.title}”{dated}{where}: {items} item{'s' * (items != 1)}, "
            f"{passages} passage{'s' * (passages != 1)}.{unread} Ask me about it.")


def _reply(client, channel: str, thread_ts: str, text: str, raw: bool = False) -> None:
    """Post ``text`` in the thread (escaped, unless ``raw`` mrkdwn such as user mentions)."""
    message = blocks.Message(text, [blocks.section_block(text)]) if raw else blocks.render_notice(text)
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                            **message.kwargs())
