"""A fake Slack Web API on 127.0.0.1 (port 0) that records every call, for tests and benchmarks.

Bolt builds a fresh ``WebClient`` per request, so only a fake at the HTTP boundary sees the calls:
give the app ``WebClient(base_url=fake.api_url)``. ``POST /api/<method>`` is answered like Slack
(``auth.test`` names the bot ``UBOT`` / ``BBOT``); ``POST /response/<name>`` stands in for a
``response_url``. Each call is recorded as a :class:`Call` (method, parsed body, headers, time).

Every ``/api/`` answer carries ``x-oauth-scopes`` (the token's scopes, as Slack sends them):
:attr:`FakeSlack.scopes`, by default the bot scopes ``manifest.yml`` asks for.

Files: :meth:`FakeSlack.add_file` stores a file; ``files.info`` describes it (``url_private`` and
``url_private_download`` point back here) and ``GET /files/<id>/<name>`` serves its bytes, recorded
as method ``download`` (with the request headers, so a test can check the bot token was sent).

Scripted failures: :meth:`FakeSlack.fail_next` answers the next call(s) to a method with an error
such as ``not_in_channel``, or HTTP 429 with ``Retry-After`` (``ratelimited``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"
RESPONSE_URL = "response_url"
DOWNLOAD = "download"
#: The bot scopes manifest.yml asks for: what the fake's token is granted unless a test changes it.
BOT_SCOPES = ("app_mentions:read", "chat:write", "commands", "files:read", "im:history", "im:write",
              "reactions:write")


@dataclass
class Call:
    """One recorded request: ``method`` is the Web API method (e.g. ``chat.postMessage``) or
    ``response_url``; ``body`` is the parsed body (JSON strings such as ``blocks`` decoded);
    ``at`` is ``time.perf_counter()`` on arrival; ``status`` the HTTP status answered."""

    method: str
    body: dict
    headers: dict
    path: str
    at: float
    status: int = 200


@dataclass
class _Failure:
    error: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1


class FakeSlack:
    """The fake server. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._failures: dict[str, list[_Failure]] = {}
        self._ts = itertools.count(1)
        #: Scopes reported in the ``x-oauth-scopes`` header (None: no header).
        self.scopes: list[str] | None = list(BOT_SCOPES)
        self.files: dict[str, tuple[dict, bytes, str]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # silence the stdlib's stderr log
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                self._send(*fake._handle(self.path.split("?")[0], dict(self.headers), raw))

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path, _, query = self.path.partition("?")
                if path.startswith("/files/"):
                    status, headers, data, ctype = fake._download(path, dict(self.headers))
                    self._send(status, headers, data, ctype=ctype)
                    return
                self._send(*fake._handle(path, {"Content-Type": "application/x-www-form-urlencoded"}, query))

            def _send(self, status: int, headers: dict, payload, ctype: str = "application/json; charset=utf-8"):
                if isinstance(payload, bytes):
                    data = payload
                else:
                    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        return f"http://127.0.0.1:{self.server.server_port}/"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give ``WebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return self.url + "api/"

    def response_url(self, name: str = "1") -> str:
        """A response_url that lands here (recorded with method ``response_url``)."""
        return f"{self.url}response/{name}"

    def start(self) -> "FakeSlack":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- scripting and inspection -------------------------------------------------------------
    def fail_next(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None,
                  times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with ``{"ok": false, "error": error}``
        (HTTP ``status``; a ``Retry-After`` header when given, as Slack sends with 429)."""
        with self._cond:
            self._failures.setdefault(method, []).append(_Failure(error, status, retry_after, times))

    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        """Answer the next call to ``method`` with HTTP 429 ``ratelimited`` and ``Retry-After``."""
        self.fail_next(method, "ratelimited", status=429, retry_after=retry_after)

    def add_file(self, name: str, data: bytes, *, size: int | None = None, file_id: str | None = None,
                 content_type: str = "application/octet-stream") -> dict:
        """Store a file (``size`` as files.info reports it, default its length); returns the ``files``
        entry of a ``file_share`` message event for it. ``content_type="redirect:<url>"``: the download
        answers 302 to that URL."""
        file_id = file_id or f"F{len(self.files) + 1:04d}"
        url = f"{self.url}files/{file_id}/{name}"
        info = {"id": file_id, "name": name, "title": name, "size": len(data) if size is None else size,
                "url_private": url, "url_private_download": url + "?download=1"}
        self.files[file_id] = (info, data, content_type)
        return {"id": file_id, "name": name, "size": info["size"]}

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls to ``method`` that were answered (any status), oldest first."""
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0, where=None) -> list[Call]:
        """Block until ``count`` successful calls to ``method`` (matching ``where(call)``) are recorded;
        returns them. Raises AssertionError with the calls seen when the timeout passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and c.status == 200 and (where is None or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.status) for c in self.calls]
                    raise AssertionError(f"waited {timeout}s for {count} × {method}; calls seen: {seen}")
                self._cond.wait(left)

    # -- the API ------------------------------------------------------------------------------
    def _handle(self, path: str, headers: dict, raw: str) -> tuple[int, dict, dict | str]:
        body = _parse(headers, raw)
        if path.startswith("/api/"):
            method = path[len("/api/"):].split("?")[0]
        elif path.startswith("/response/"):
            method = RESPONSE_URL
        else:
            method = "unknown:" + path
        call = Call(method, body, headers, path, time.perf_counter())
        with self._cond:
            status, extra, payload = self._scripted(method)
            call.status = status
            self.calls.append(call)
            self._cond.notify_all()
        if path.startswith("/api/") and self.scopes is not None:
            extra = {**extra, "x-oauth-scopes": ",".join(self.scopes)}
        if payload is not None:
            return status, extra, payload
        return 200, extra, self._answer(method, body)

    def _download(self, path: str, headers: dict) -> tuple[int, dict, bytes, str]:
        file_id = path.split("/")[2]
        with self._cond:
            found = self.files.get(file_id)
            self.calls.append(Call(DOWNLOAD, {"file": file_id}, headers, path, time.perf_counter(),
                                   200 if found else 404))
            self._cond.notify_all()
        if found and found[2].startswith("redirect:"):
            return 302, {"Location": found[2][len("redirect:"):]}, b"", "text/plain"
        return (200, {}, found[1], found[2]) if found else (404, {}, b"not found", "text/plain")

    def _scripted(self, method: str):
        queue = self._failures.get(method)
        if not queue:
            return 200, {}, None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        return failure.status, extra, {"ok": False, "error": failure.error}

    def _answer(self, method: str, body: dict) -> dict | str:
        if method == RESPONSE_URL:
            return "ok"
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "bulletin-bot",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            ts = f"1800000000.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts,
                    "message": {"text": body.get("text"), "ts": ts, "bot_id": BOT_ID}}
        if method == "files.info":
            found = self.files.get(str(body.get("file")))
            return {"ok": True, "file": found[0]} if found else {"ok": False, "error": "file_not_found"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users", "X")).split(",")[0]}}
        return {"ok": True}


def _parse(headers: dict, raw: str) -> dict:
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in ctype:
        body = json.loads(raw) if raw else {}
    else:
        body = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw).items()}
    for key in ("blocks", "attachments"):
        if isinstance(body.get(key), str):
            body[key] = json.loads(body[key])
    return body
