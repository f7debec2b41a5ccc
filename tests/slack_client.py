"""Test and benchmark harness: the real bot (bolt App over real HTTP) against :class:`FakeSlack`.

:class:`BotUnderTest` starts the bot's WSGI server on 127.0.0.1 (port 0) with the Web API pointed at
the fake, and sends it signed requests as Slack would: events (JSON), slash commands and button
clicks (form-encoded), with optional retry headers, bad signatures or stale timestamps.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.server.serve import EVENTS_PATH, server_limits, start_http_in_thread
from bot.slack.app import create_app
from bot.state.sqlite import SQLiteStore
from tests.slack_fake import BOT_USER_ID, TEAM_ID, FakeSlack

SIGNING_SECRET = "test-signing-secret"
_ids = itertools.count(1)


class BotUnderTest:
    """The bot served over HTTP, talking to ``fake``, keeping its state in ``store`` (default: SQLite in
    ``data_dir``). Use as a context manager."""

    def __init__(self, fake: FakeSlack, searcher, data_dir: Path, store=None, **settings):
        self.fake = fake
        settings.setdefault("files_url", fake.url)  # the fake serves files over http on 127.0.0.1
        self.settings = Settings(bot_token="xoxb-test-token", signing_secret=SIGNING_SECRET, api_url=fake.api_url,
                                 data_dir=data_dir, **settings)
        self.store = store if store is not None else SQLiteStore(
            self.settings.store_path, dedupe_seconds=self.settings.dedupe_seconds,
            retention_days=self.settings.retention_days)
        self.app = create_app(self.settings, searcher, self.store)
        self.server, self._thread = start_http_in_thread(self.app, **server_limits(self.settings))
        self.url = f"http://127.0.0.1:{self.server.server_port}{EVENTS_PATH}"
        self.verifier = SignatureVerifier(SIGNING_SECRET)

    def __enter__(self) -> "BotUnderTest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.wait_idle()
        self.server.shutdown()
        self.server.server_close()
        self.app.responder.shutdown(wait=True)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every acknowledged request has been handled to the end."""
        assert self.app.responder.wait_idle(timeout), "the bot did not finish its work in time"

    # -- requests -----------------------------------------------------------------------------
    def post(self, body: str, content_type: str, headers: dict | None = None, timestamp: int | None = None,
             signature: str | None = None) -> tuple[int, str]:
        """POST a signed body; returns (status, response text)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        req = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def event_body(self, event: dict, event_id: str | None = None) -> str:
        """An Events API ``event_callback`` envelope (JSON) around ``event``."""
        return json.dumps({
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0001", "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        })

    def send_event(self, event: dict, event_id: str | None = None, **kwargs) -> tuple[int, str]:
        return self.post(self.event_body(event, event_id), "application/json", **kwargs)

    def send_command(self, text: str, response_url: str, user: str = "U1", channel: str = "C1") -> tuple[int, str]:
        body = urlencode({"token": "legacy", "team_id": TEAM_ID, "channel_id": channel, "user_id": user,
                          "command": "/bulletin", "text": text, "response_url": response_url,
                          "trigger_id": "trig", "api_app_id": "A0001"})
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, action: dict, *, user: str = "U1", channel: str = "C1", message: dict | None = None,
              response_url: str, ephemeral: bool = False) -> tuple[int, str]:
        """A ``block_actions`` payload for one button click."""
        payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user}, "api_app_id": "A0001",
                   "token": "legacy", "trigger_id": "trig", "response_url": response_url,
                   "channel": {"id": channel}, "actions": [{**action, "type": "button", "block_id": "b1",
                                                            "action_ts": "1.0"}],
                   "container": {"type": "message", "is_ephemeral": ephemeral, "channel_id": channel,
                                 **({"message_ts": message["ts"]} if message else {})}}
        if message is not None:
            payload["message"] = message
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def mention(text: str, ts: str, channel: str = "C1", user: str = "U1", **extra) -> dict:
    """An ``app_mention`` event mentioning the bot."""
    return {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts, "channel": channel,
            "event_ts": ts, **extra}


def message(text: str, ts: str, channel: str = "D1", user: str = "U1", channel_type: str = "im", **extra) -> dict:
    """A ``message`` event (a DM unless told otherwise)."""
    return {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
            "channel_type": channel_type, "event_ts": ts, **extra}


def buttons(call) -> dict[str, dict]:
    """The buttons of a recorded message, by action_id."""
    return {e["action_id"]: e for b in call.body.get("blocks", []) if b["type"] == "actions" for e in b["elements"]}


def all_text(call) -> str:
    """Every string of a recorded call's body (text and blocks), joined."""
    return json.dumps(call.body, ensure_ascii=False)
