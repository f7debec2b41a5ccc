"""Bulletins uploaded to the bot: a file shared in a DM, or in a channel message that mentions the bot.

Only the users in ``BULLETIN_BOT_INGEST_ALLOWED_USERS`` may add bulletins; anyone else is told who can.
A file is taken when its name ends in a key of :data:`retrieval.intake.sources.EXTRACTORS` and it is no larger
than ``BULLETIN_BOT_UPLOAD_MAX_MB``. The bot asks ``files.info`` (through the app's WebClient), downloads
``url_private_download`` (else ``url_private``) with the bot token in an ``Authorization: Bearer``
header, saves the file into the inbox folder atomically (a hidden temporary name, then ``os.replace``)
and ingests it at once on an answer worker, with the ingest call ``ingest --watch`` uses. The reply in
the thread says what was added (title, date, items, passages), or one sentence saying why not. The
upload's caption is not answered as a question.
"""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.slack import blocks
from bot.state.protocol import event_keys
from retrieval.intake.sources import EXTRACTORS, read_bulletin

from .reply import error_code

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
    """

    allowed_users: tuple[str, ...]
    max_bytes: int
    folder: Path
    ingest: Callable[[list[Path]], object]


class SignInPage(ValueError):
    """Slack answered a file download with its HTML sign-in page instead of the file."""


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
            lines.append(add_file(deps, uploads, client, file))
        except Exception:  # noqa: BLE001 - the uploader hears back, whatever went wrong
            log.exception("adding the uploaded file %s failed", file.get("id"))
            lines.append(f"I could not add {file.get('name') or 'that file'}: something went wrong "
                         "(the error has been logged).")
    _reply(client, channel, thread_ts, "\n".join(lines))


def add_file(deps, uploads: Uploads, client, file: dict) -> str:
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
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        return f"I could not download {name} from Slack (it has no download link), so nothing was added."
    try:
        data = download(url, client.token, uploads.max_bytes)
    except SignInPage:
        return f"Slack sent a sign-in page instead of {name}: the app needs the files:read scope (reinstall it)."
    except ValueError:
        return f"I cannot add {name}: it is larger than the {limit_mb} MB limit."
    except OSError as exc:
        log.warning("downloading %s failed: %s", name, getattr(exc, "reason", None) or exc.__class__.__name__)
        return f"I could not download {name} from Slack, so nothing was added; please try again."
    path = save(uploads.folder, name, data)
    report = uploads.ingest([path])
    return describe(deps, path, report)


def download(url: str, token: str | None, max_bytes: int) -> bytes:
    """GET ``url`` with ``Authorization: Bearer <token>``; its bytes (ValueError past ``max_bytes``).

    Raises:
        OSError: the request failed (urllib.error.URLError, HTTPError, a timeout).
        SignInPage: Slack answered with its sign-in page (the token lacks files:read).
        ValueError: the file is larger than ``max_bytes``.
    """
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token or ''}"})
    opener = urllib.request.build_opener(_SameHostAuth())
    with opener.open(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        html = (response.headers.get("Content-Type") or "").startswith("text/html")
        data = response.read(max_bytes + 1)
    if html and not url.split("?")[0].lower().endswith((".html", ".htm")) and b"<html" in data[:2048].lower():
        raise SignInPage("Slack answered with a sign-in page")
    if len(data) > max_bytes:
        raise ValueError("too large")
    return data


class _SameHostAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but send the bot token only to the host it was meant for."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def save(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/<safe name>`` atomically (a hidden temporary file, then ``os.replace``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._") or "upload.txt"
    target = folder / safe
    tmp = folder / f".{safe}.upload"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def describe(deps, path: Path, report) -> str:
    """One sentence about what ingesting ``path`` did: added or updated (title, date, items, passages), or why not."""
    name = path.name
    errors = [e for e in getattr(report, "errors", []) if Path(e["file"]).name == name]
    if errors:
        return f"I could not add {name}: {errors[0]['error']}."
    if getattr(report, "refused", None):
        return f"I could not add {name}: {report.refused}."
    bulletin = read_bulletin(path)
    items = sum(len(s.items) for s in bulletin.sections)
    try:
        passages = len(deps.searcher.index.passage_ids_by_bulletin().get(name, []))
    except Exception:  # noqa: BLE001 - the count is a courtesy; the ingest happened
        passages = getattr(report, "passages_added", 0)
    verb = ("Added" if name in report.added else "Updated" if name in report.updated
            else "Already had, unchanged:")
    dated = f" ({bulletin.date})" if bulletin.date else " (no date)"
    return (f"{verb} “{bulletin.title}”{dated}: {items} item{'s' * (items != 1)}, "
            f"{passages} passage{'s' * (passages != 1)}. Ask me about it.")


def _reply(client, channel: str, thread_ts: str, text: str, raw: bool = False) -> None:
    """Post ``text`` in the thread (escaped, unless ``raw`` mrkdwn such as user mentions)."""
    message = blocks.Message(text, [blocks.section_block(text)]) if raw else blocks.render_notice(text)
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                            **message.kwargs())
