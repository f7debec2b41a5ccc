"""The bot's own state in SQLite (``DATA_DIR/bot.sqlite``): event dedupe, answers, feedback, threads.

One file, one place to swap for PostgreSQL. Safe to share between threads (one connection per
thread, WAL journal) and between processes on one host; state survives restarts.

Tables::

    seen        key TEXT PRIMARY KEY, seen_at REAL        "event:<event_id>" and "msg:<channel>:<ts>"
    answers     id, query, passage_ids (JSON list), user, channel, thread_ts, created_at
    feedback    answer_id, query, passage_ids (JSON), user, vote (+1 / -1), created_at
    threads     (channel, thread_ts) the bot answered in, created_at

Times are Unix seconds (float).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS seen_at_idx ON seen (seen_at);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, query TEXT NOT NULL, passage_ids TEXT NOT NULL,
    user TEXT, channel TEXT, thread_ts TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id INTEGER, query TEXT NOT NULL, passage_ids TEXT NOT NULL,
    user TEXT, vote INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS threads (
    channel TEXT NOT NULL, thread_ts TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (channel, thread_ts));
"""


@dataclass(frozen=True)
class AnswerRecord:
    """An answer the bot posted: the query and the passage ids quoted, best first."""

    id: int
    query: str
    passage_ids: list[int]
    user: str | None
    channel: str | None
    thread_ts: str | None
    created_at: float


@dataclass(frozen=True)
class Feedback:
    """One 👍 (vote +1) or 👎 (vote -1) on an answer."""

    answer_id: int | None
    query: str
    passage_ids: list[int]
    user: str | None
    vote: int
    created_at: float


def event_keys(event_id: str | None, channel: str | None, ts: str | None) -> list[str]:
    """The dedupe keys of one Slack event: its event id, and its message's (channel, ts) when known."""
    keys = []
    if event_id:
        keys.append(f"event:{event_id}")
    if channel and ts:
        keys.append(f"msg:{channel}:{ts}")
    return keys


class BotStore:
    """SQLite-backed state of the bot.

    Args:
        path: the database file (created with its parent directory), or ":memory:" for one thread.
        dedupe_seconds: how long a claimed key blocks a second claim (Slack retries for ~5 minutes).
    """

    def __init__(self, path: str | Path, dedupe_seconds: float = 3600):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.dedupe_seconds = dedupe_seconds
        self._local = threading.local()
        self._claims = 0
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- dedupe -------------------------------------------------------------------------------
    def claim(self, keys: Iterable[str], now: float | None = None) -> bool:
        """Claim an event by all its keys at once.

        Returns True when none of the keys was claimed within the last ``dedupe_seconds`` (the
        caller answers), False when any was (a retry, or the same message delivered as both
        ``app_mention`` and ``message``: the caller stays quiet). Atomic across threads and processes.
        """
        keys = list(dict.fromkeys(keys))
        if not keys:
            return True
        now = time.time() if now is None else now
        horizon = now - self.dedupe_seconds
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            marks = ",".join("?" * len(keys))
            seen = conn.execute(f"SELECT 1 FROM seen WHERE key IN ({marks}) AND seen_at >= ? LIMIT 1",
                                (*keys, horizon)).fetchone()
            if seen is None:
                conn.executemany("INSERT OR REPLACE INTO seen (key, seen_at) VALUES (?, ?)", [(k, now) for k in keys])
            self._claims += 1
            if self._claims % 500 == 0:
                conn.execute("DELETE FROM seen WHERE seen_at < ?", (horizon,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return seen is None

    # -- answers and feedback -------------------------------------------------------------
    def record_answer(self, query: str, passage_ids: Iterable[int], user: str | None = None,
                      channel: str | None = None, thread_ts: str | None = None) -> int:
        """Remember an answer; returns its id (used by the feedback and "More results" buttons)."""
        cur = self._conn().execute(
            "INSERT INTO answers (query, passage_ids, user, channel, thread_ts, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (query, json.dumps([int(p) for p in passage_ids]), user, channel, thread_ts, time.time()))
        return int(cur.lastrowid)

    def answer(self, answer_id: int) -> AnswerRecord | None:
        """The answer with that id, or None."""
        row = self._conn().execute(
            "SELECT id, query, passage_ids, user, channel, thread_ts, created_at FROM answers WHERE id = ?",
            (answer_id,)).fetchone()
        if row is None:
            return None
        return AnswerRecord(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6])

    def record_feedback(self, answer_id: int, user: str | None, vote: int) -> Feedback | None:
        """Record a vote (+1 or -1) on an answer with its query and passage ids; None for an unknown answer.

        Raises:
            ValueError: vote is neither +1 nor -1.
        """
        if vote not in (1, -1):
            raise ValueError(f"vote must be 1 or -1, got {vote!r}")
        record = self.answer(answer_id)
        if record is None:
            return None
        fb = Feedback(answer_id, record.query, record.passage_ids, user, vote, time.time())
        self._conn().execute(
            "INSERT INTO feedback (answer_id, query, passage_ids, user, vote, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (fb.answer_id, fb.query, json.dumps(fb.passage_ids), fb.user, fb.vote, fb.created_at))
        log.info("feedback %+d on answer %s by %s", vote, answer_id, user)
        return fb

    def feedback(self) -> list[Feedback]:
        """All feedback, oldest first."""
        rows = self._conn().execute(
            "SELECT answer_id, query, passage_ids, user, vote, created_at FROM feedback ORDER BY id").fetchall()
        return [Feedback(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    # -- threads the bot answered in --------------------------------------------------------
    def remember_thread(self, channel: str, thread_ts: str) -> None:
        """Note that the bot answered in this thread."""
        self._conn().execute("INSERT OR IGNORE INTO threads (channel, thread_ts, created_at) VALUES (?, ?, ?)",
                             (channel, thread_ts, time.time()))

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        """True when the bot answered in this thread."""
        return self._conn().execute("SELECT 1 FROM threads WHERE channel = ? AND thread_ts = ?",
                                    (channel, thread_ts)).fetchone() is not None
