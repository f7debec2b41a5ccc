"""Replicas for the tests: real ``bulletin-bot serve --http`` processes (and ``bulletin-bot digest`` runs)
with the fake hash encoder, sharing one PostgreSQL database and one data directory, talking to a
:class:`~tests.slack_fake.FakeSlack`; requests are signed as Slack signs them.

The processes run ``bot.cli.main`` after replacing ``bot.cli.options.make_encoder`` with
:class:`tests.fakes.HashEncoder` (the index was built with it; the real model would take seconds to load).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

from tests.slack_fake import BOT_USER_ID, TEAM_ID, FakeSlack

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "replica-signing-secret"
LAUNCHER = ("import sys; from bot import cli; from bot.cli import options; from tests.fakes import HashEncoder; "
            "options.make_encoder = lambda model, data_dir=None: HashEncoder(); "
            "sys.argv = ['bulletin-bot', *sys.argv[1:]]; cli.main()")


#: The CLI as installed, with the real encoder (for benchmarks/bench_replicas.py).
REAL_LAUNCHER = "import sys; from bot import cli; sys.argv = ['bulletin-bot', *sys.argv[1:]]; cli.main()"


def replica_env(fake: FakeSlack, data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a replica: only what it needs (nothing inherited from the test's shell)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
            "SLACK_BOT_TOKEN": "xoxb-replica-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url, "BULLETIN_BOT_DATA_DIR": str(data_dir),
            "BULLETIN_BOT_DATABASE_URL": database_url, "LOG_LEVEL": "INFO", **extra}


def run_cli(args: list[str], env: dict[str, str], cwd: Path, **kwargs) -> subprocess.Popen:
    """Start ``bulletin-bot ARGS`` (with the fake encoder) in ``cwd``; stdout and stderr are pipes."""
    return subprocess.Popen([sys.executable, "-c", LAUNCHER, *args], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


class Replica:
    """One ``bulletin-bot serve --http`` process on 127.0.0.1 (any free port); its stderr goes to a file."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path, launcher: str = LAUNCHER) -> None:
        """``launcher``: the Python code run as the process (default: the CLI with the fake encoder;
        :data:`REAL_LAUNCHER` runs it with the real model)."""
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", launcher, "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
            env=env, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT, text=True)
        self.base = ""
        self.verifier = SignatureVerifier(SIGNING_SECRET)

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 60.0) -> "Replica":
        """Wait until it listens and ``/readyz`` says 200; AssertionError with its log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.name} exited {self.proc.returncode}:\n{self.log()}"
            if not self.base:
                m = re.search(r"listening on (http://127\.0\.0\.1:\d+) \(loading", self.log())
                self.base = m.group(1) if m else ""
            if self.base:
                try:
                    with urllib.request.urlopen(self.base + "/readyz", timeout=2) as resp:
                        if resp.status == 200:
                            return self
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait for the exit (SIGKILL after ``timeout``); returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def post(self, body: str, content_type: str, headers: dict | None = None) -> tuple[int, str]:
        """POST a signed body to /slack/events; returns (status, text)."""
        ts = str(int(time.time()))
        req = urllib.request.Request(self.base + "/slack/events", data=body.encode(), method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body), **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def send_event(self, event: dict, event_id: str, retry: int = 0) -> tuple[int, str]:
        """Deliver an ``event_callback`` (``retry`` > 0: as Slack's retry number ``retry``)."""
        body = json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0001", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event,
                           "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]})
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(body, "application/json", headers)

    def click(self, action: dict, *, user: str, channel: str, message: dict, response_url: str) -> tuple[int, str]:
        """A ``block_actions`` payload for one button click on ``message``."""
        from urllib.parse import urlencode

        payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user}, "api_app_id": "A0001",
                   "token": "legacy", "trigger_id": "trig", "response_url": response_url, "channel": {"id": channel},
                   "actions": [{**action, "type": "button", "block_id": "b1", "action_ts": "1.0"}],
                   "container": {"type": "message", "is_ephemeral": False, "channel_id": channel,
                                 "message_ts": message["ts"]}, "message": message}
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
