"""Keep answering while the state store is down: :class:`ResilientStore` wraps the bot's
:class:`~bot.state.protocol.StateStore` and, when the store is unavailable (PostgreSQL stopped, restarting or
unreachable; SQLite's disk failing), lets the bot go on answering from the index:

- **dedupe** degrades to this process: event keys are claimed in memory (for the dedupe window) and
  written to the store when it is back (so a retry after the outage is still refused). Replicas cannot
  see each other's claims meanwhile: an event may then be answered by two of them (logged);
- **answers** (the answer records, audit details included) are kept in memory under a provisional id (a
  negative number, random per process, so the buttons of the message work) and written when the store is
  back, with the time they were given; the provisional id then maps to the stored one;
- **votes** (one per user per answer, the latest, with a 👎's passage choice) and **threads answered in**
  are queued in memory and written when the store is back, with the time they were cast;
- everything else (digest claims, subscriptions, an old answer's "More results") fails at once with
  :class:`~bot.state.protocol.StoreUnavailable` — one sentence to the user — instead of waiting on the pool.

Bounded: at most ``max_pending`` answers, votes and threads each wait in memory. Past it an answer is
still posted (its buttons then say the answer is too old), a vote is refused with a sentence, a thread
is forgotten; a claim table of the same bound drops its oldest keys first. What is lost is counted in
:meth:`ResilientStore.health` and logged.

The first failing call marks the store down (one WARNING); a prober thread then calls the store's
``ping()`` every ``probe_every`` seconds (PostgreSQL: a direct connection, then a fresh pool, so the
pool's reconnection backoff never delays the recovery), writes what waited, in order, and marks the
store up (one WARNING with the counts). :meth:`ResilientStore.health` is what ``/readyz`` reports.

:meth:`ResilientStore.starting_down` covers a server that cannot be reached when ``serve`` starts
(:class:`~bot.state.protocol.StoreUnreachable`): the bot starts without a store, in the same degraded
mode, and the prober opens it (migrations included) as soon as the server answers.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .protocol import AnswerRecord, Feedback, StoreUnavailable, check_vote
from .records import AnswerDetails

log = logging.getLogger(__name__)

#: Answers, votes and threads each kept in memory at most while the store is down.
MAX_PENDING = 10_000
#: Seconds between looks at a store that is down.
PROBE_EVERY = 1.0
#: Provisional answer ids handed out while down, and what they became, remembered at most.
MAX_PROVISIONAL = 50_000


@dataclass
class _Vote:
    answer_id: int
    user: str | None
    vote: int
    at: float
    choice: int | None = None


class ResilientStore:
    """A :class:`~bot.state.protocol.StateStore` that keeps the bot answering while ``inner`` is unavailable.

    Args:
        inner: the store (:class:`~bot.state.postgres.PgStore`, :class:`~bot.state.sqlite.SQLiteStore`). Its
            ``unavailable_errors`` (a tuple of exception types) say which failures mean "down"
            (anything else propagates); its ``ping()`` says whether it is back.
        max_pending: answers, votes and threads each kept in memory at most while down.
        probe_every: seconds between pings while down.
    """

    def __init__(self, inner, *, max_pending: int = MAX_PENDING, probe_every: float = PROBE_EVERY,
                 opener: Callable[[], object] | None = None, dedupe_seconds: float | None = None,
                 label: str | None = None) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        if inner is None and opener is None:
            raise ValueError("a ResilientStore needs a store, or an opener to open one")
        self.inner = inner
        self._opener = opener
        self._label = label or repr(inner)
        self.max_pending = max_pending
        self.probe_every = probe_every
        self.dedupe_seconds = float(dedupe_seconds if dedupe_seconds is not None
                                    else getattr(inner, "dedupe_seconds", 3600))
        self._errors: tuple[type[BaseException], ...] = tuple(getattr(inner, "unavailable_errors", ()))
        self._lock = threading.RLock()
        self._up = True
        self._down_since: float | None = None
        self._last_error: str | None = None
        self._claims: OrderedDict[str, float] = OrderedDict()  # key -> claimed at (in-process dedupe)
        self._unsaved_claims: list[tuple[list[str], float]] = []
        self._answers: OrderedDict[int, AnswerRecord] = OrderedDict()  # provisional id -> the answer, unsaved
        self._stored_as: OrderedDict[int, int] = OrderedDict()  # provisional id -> the stored id
        self._votes: OrderedDict[tuple[int, str | None], _Vote] = OrderedDict()
        self._threads: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._base = -(secrets.randbelow(9 * 10**8) + 10**8) * 10**6  # -1e14..-1e15: no clash across restarts
        self._next = itertools.count(1)
        self.lost = {"answers": 0, "votes": 0, "threads": 0}
        self.written = {"answers": 0, "votes": 0, "threads": 0, "claims": 0}
        self._stop = threading.Event()
        self._prober: threading.Thread | None = None

    @classmethod
    def starting_down(cls, opener: Callable[[], object], error: BaseException, *, dedupe_seconds: float,
                      label: str, **kwargs) -> "ResilientStore":
        """A store whose server could not be reached at start (``error``): the bot runs degraded, and
        ``opener()`` (which opens and migrates the real store) is retried every ``probe_every`` seconds."""
        store = cls(None, opener=opener, dedupe_seconds=dedupe_seconds, label=label, **kwargs)
        store._down(error)
        return store

    def __repr__(self) -> str:
        return f"ResilientStore({self._label})"

    # -- state ------------------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        """False from the first failed call until the store answers again and what waited is written."""
        return self._up

    def health(self) -> dict:
        """What ``/readyz`` and the logs report: ``{"ok", "store", "down_since", "error", "waiting":
        {"answers", "votes", "threads"}, "lost": {…}}`` (times in Unix seconds)."""
        with self._lock:
            return {"ok": self._up, "store": self._label, "down_since": self._down_since,
                    "error": self._last_error,
                    "waiting": {"answers": len(self._answers), "votes": len(self._votes),
                                "threads": len(self._threads)},
                    "lost": dict(self.lost)}

    def _down(self, exc: BaseException) -> None:
        with self._lock:
            self._last_error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            if not self._up:
                return
            self._up = False
            self._down_since = time.time()
            log.warning("the state store %s is unavailable (%s): answering from the index, dedupe in this process "
                        "only, votes and answers kept in memory until it is back", self._label, self._last_error)
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._probe, name="store-probe", daemon=True)
                self._prober.start()

    def _call(self, method: str, *args, **kwargs):
        """``inner.method(*args)``; StoreUnavailable at once while down, or when it fails as unavailable."""
        if not self._up:
            raise StoreUnavailable(f"the state store is unavailable ({self._last_error})")
        try:
            return getattr(self.inner, method)(*args, **kwargs)
        except self._errors as exc:
            self._down(exc)
            raise StoreUnavailable(f"the state store is unavailable ({self._last_error})") from exc

    def __getattr__(self, name: str):
        """Every other store method (digest claims, subscriptions, feedback listing) goes to ``inner``,
        failing at once with StoreUnavailable while it is down."""
        if name.startswith("__") or name in ("inner", "_opener"):
            raise AttributeError(name)
        if self.inner is None:  # not opened yet: whatever it is, it needs the store
            return lambda *args, **kwargs: self._call(name, *args, **kwargs)
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr
        return lambda *args, **kwargs: self._call(name, *args, **kwargs)

    # -- dedupe -----------------------------------------------------------------------------------------
    def claim(self, keys: Iterable[str], now: float | None = None) -> bool:
        """Claim an event by all its keys: in the store, and in this process (what it claimed while the
        store was down stays claimed here for the dedupe window)."""
        keys = list(dict.fromkeys(keys))
        now = time.time() if now is None else now
        with self._lock:
            horizon = now - self.dedupe_seconds
            while self._claims and next(iter(self._claims.values())) < horizon:
                self._claims.popitem(last=False)
            if any(k in self._claims for k in keys):
                return False
        if self._up:
            try:
                won = self.inner.claim(keys, now)
            except self._errors as exc:
                self._down(exc)
            else:
                if won:
                    self._remember_claim(keys, now, saved=True)
                return won
        log.info("state store down: event %s claimed in this process only", keys)
        self._remember_claim(keys, now, saved=False)
        return True

    def _remember_claim(self, keys: list[str], now: float, saved: bool) -> None:
        with self._lock:
            for k in keys:
                self._claims[k] = now
            while len(self._claims) > self.max_pending * 4:
                self._claims.popitem(last=False)
            if not saved:
                self._unsaved_claims.append((keys, now))
                del self._unsaved_claims[:-self.max_pending]

    # -- answers and votes ------------------------------------------------------------------------------
    def record_answer(self, query: str, passage_ids: Iterable[int], user: str | None = None,
                      channel: str | None = None, thread_ts: str | None = None, *,
                      details: AnswerDetails | None = None, at: float | None = None) -> int:
        """Remember an answer (with its audit ``details``): its stored id, or while the store is down a
        provisional (negative) id; it is written when the store is back, timed when it was given."""
        passage_ids = [int(p) for p in passage_ids]
        at = time.time() if at is None else at
        if self._up:
            try:
                return int(self.inner.record_answer(query, passage_ids, user, channel, thread_ts, details=details,
                                                    at=at))
            except self._errors as exc:
                self._down(exc)
        with self._lock:
            local = self._base - next(self._next)
            if len(self._answers) >= self.max_pending:
                self.lost["answers"] += 1
                log.warning("state store down and %d answers already waiting: answer %d is not kept (its buttons "
                            "will say it is too old)", len(self._answers), local)
                return local
            self._answers[local] = AnswerRecord(local, query, passage_ids, user, channel, thread_ts, at, details)
            return local

    def answer(self, answer_id: int) -> AnswerRecord | None:
        """The answer with that id (a provisional one from memory, or as stored), or None.

        Raises:
            StoreUnavailable: a stored answer is asked for while the store is down.
        """
        with self._lock:
            if answer_id in self._answers:
                return self._answers[answer_id]
            stored = self._stored_as.get(answer_id)
        if answer_id < 0 and stored is None:
            return None  # another process's provisional id, or one not kept
        return self._call("answer", stored if stored is not None else answer_id)

    def record_feedback(self, answer_id: int, user: str | None, vote: int, at: float | None = None, *,
                        choice: int | None = None) -> Feedback | None:
        """Record a vote (with a 👎's passage ``choice``); while the store is down (or on a provisional answer
        not yet written) it waits in memory, the user's latest vote per answer. None for an answer known to
        be unknown.

        Raises:
            ValueError: vote is neither +1 nor -1.
            StoreUnavailable: the store is down and :attr:`max_pending` votes are already waiting.
        """
        check_vote(vote, choice=choice)
        at = time.time() if at is None else at
        with self._lock:
            record = self._answers.get(answer_id)
            stored = self._stored_as.get(answer_id, answer_id if answer_id > 0 else None)
        if record is None and stored is None:
            return None
        if record is None and self._up:
            try:
                return self.inner.record_feedback(stored, user, vote, at, choice=choice)
            except self._errors as exc:
                self._down(exc)
        with self._lock:
            key = (answer_id, user)
            if key not in self._votes and len(self._votes) >= self.max_pending:
                self.lost["votes"] += 1
                raise StoreUnavailable(f"the state store is down and {len(self._votes)} votes are already waiting")
            self._votes.pop(key, None)
            self._votes[key] = _Vote(answer_id, user, vote, at, choice)
        log.info("state store down: vote %+d on answer %s by %s kept until it is back", vote, answer_id, user)
        query, passages = (record.query, record.passage_ids) if record is not None else ("", [])
        return Feedback(answer_id, query, passages, user, vote, at, choice)

    # -- threads ----------------------------------------------------------------------------------------
    def remember_thread(self, channel: str, thread_ts: str) -> None:
        """Note that the bot answered in this thread (in memory while the store is down)."""
        if self._up:
            try:
                self.inner.remember_thread(channel, thread_ts)
                return
            except self._errors as exc:
                self._down(exc)
        with self._lock:
            if len(self._threads) >= self.max_pending:
                self.lost["threads"] += 1
                return
            self._threads[(channel, thread_ts)] = time.time()

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        """True when the bot answered in this thread (in the store, or in memory while it is down)."""
        with self._lock:
            if (channel, thread_ts) in self._threads:
                return True
        if not self._up:
            return False
        try:
            return bool(self.inner.is_bot_thread(channel, thread_ts))
        except self._errors as exc:
            self._down(exc)
            return False

    # -- housekeeping -----------------------------------------------------------------------------------
    def purge(self, now: float | None = None) -> int:
        """The store's purge; 0 (logged) while it is down."""
        try:
            return int(self._call("purge", now))
        except StoreUnavailable:
            log.info("retention purge skipped: the state store is down")
            return 0

    def close(self) -> None:
        """Write what waits if the store is back (one last try), stop the prober, close ``inner``."""
        self._stop.set()
        if not self._up and self.inner is not None:
            try:
                if self.inner.ping():
                    self._flush()
            except Exception:  # noqa: BLE001 - closing must not raise
                log.debug("last flush failed", exc_info=True)
        waiting = self.health()["waiting"]
        if any(waiting.values()):
            log.warning("closing with the state store down: %d answers, %d votes and %d threads were never written",
                        waiting["answers"], waiting["votes"], waiting["threads"])
        if self._prober is not None:
            self._prober.join(self.probe_every + 5)
        if self.inner is not None:
            self.inner.close()

    # -- recovery ---------------------------------------------------------------------------------------
    def _probe(self) -> None:
        while not self._stop.wait(self.probe_every):
            try:
                if self.inner is None:  # could not be opened at start: open it now (it migrates)
                    opened = self._opener()  # type: ignore[misc]
                    self._errors = tuple(getattr(opened, "unavailable_errors", ()))
                    self.inner = opened
                    log.warning("the state store %s could be opened at last", self._label)
                elif not self.inner.ping():
                    continue
                if self._flush():
                    return
            except Exception as exc:  # noqa: BLE001 - keep probing, whatever the store raised
                with self._lock:
                    self._last_error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
                log.debug("state store still unavailable", exc_info=True)

    def _flush(self) -> bool:
        """Write what waited, in order (claims, answers, votes, threads); mark the store up. True when done."""
        with self._lock:
            while self._unsaved_claims:
                keys, at = self._unsaved_claims[0]
                self.inner.claim(keys, at)  # False: a replica claimed it too meanwhile; nothing to do
                self._unsaved_claims.pop(0)
                self.written["claims"] += 1
            while self._answers:
                local, rec = next(iter(self._answers.items()))
                self._stored_as[local] = int(self.inner.record_answer(rec.query, rec.passage_ids, rec.user,
                                                                      rec.channel, rec.thread_ts, details=rec.details,
                                                                      at=rec.created_at))
                del self._answers[local]
                self.written["answers"] += 1
                while len(self._stored_as) > MAX_PROVISIONAL:
                    self._stored_as.popitem(last=False)
            while self._votes:
                key, v = next(iter(self._votes.items()))
                stored = self._stored_as.get(v.answer_id, v.answer_id if v.answer_id > 0 else None)
                if stored is None or self.inner.record_feedback(stored, v.user, v.vote, v.at, choice=v.choice) is None:
                    self.lost["votes"] += 1
                    log.warning("a vote kept during the outage is on an answer the store does not have (%s)",
                                v.answer_id)
                else:
                    self.written["votes"] += 1
                del self._votes[key]
            while self._threads:
                (channel, thread_ts), _ = next(iter(self._threads.items()))
                self.inner.remember_thread(channel, thread_ts)
                del self._threads[(channel, thread_ts)]
                self.written["threads"] += 1
            down_for = time.time() - (self._down_since or time.time())
            self._up, self._down_since, self._last_error = True, None, None
        log.warning("the state store %s is back after %.0f s: written so far %s; lost %s", self._label, down_for,
                    self.written, self.lost)
        return True
