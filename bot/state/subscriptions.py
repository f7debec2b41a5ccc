"""The ``subscriptions`` table's SQL, shared by the SQLite and PostgreSQL stores.

A channel's digest subscriptions (:class:`~bot.state.protocol.Subscription`): one row per (channel, kind,
value), created by the migrations of :mod:`bot.state.migrations` (version 3) and :mod:`bot.state.pg_migrations`
(version 2). They are settings, not records of what people asked: the retention purge leaves them.

:class:`SubscriptionMethods` is mixed into both stores; a store supplies ``_run(sql, args)`` (returns
the statement's rows and rowcount) and its placeholder (``?`` for sqlite3, ``%s`` for psycopg).
"""

from __future__ import annotations

import logging
import time

from .protocol import Subscription, check_subscription

log = logging.getLogger("bot.state.sqlite")

_COLUMNS = "channel, kind, value, created_by, created_at"


class SubscriptionMethods:
    """``subscribe`` / ``unsubscribe`` / ``subscriptions`` of :class:`~bot.state.protocol.StateStore`, in portable SQL."""

    #: The store's parameter placeholder.
    _placeholder = "?"

    def _run(self, sql: str, args: tuple = ()) -> tuple[list, int]:  # pragma: no cover - each store has its own
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self._placeholder)

    def subscribe(self, channel: str, kind: str, value: str, user: str | None) -> bool:
        """Subscribe the channel's digest to an instrument (``kind`` "instrument", ``value`` its key) or a
        topic (``kind`` "topic", ``value`` its normalised words); returns False when it already was (the
        first subscriber and time are kept). Atomic: one ``INSERT … ON CONFLICT DO NOTHING``.

        Raises:
            ValueError: an unknown kind, an empty value or one over :data:`~bot.state.protocol.MAX_SUBSCRIPTION_CHARS`.
        """
        check_subscription(kind, value)
        _, count = self._run(self._sql(f"INSERT INTO subscriptions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
                                       " ON CONFLICT (channel, kind, value) DO NOTHING"),
                             (channel, kind, value, user, time.time()))
        if count == 1:
            log.info("channel %s subscribed to %s %r by %s", channel, kind, value, user)
        return count == 1

    def unsubscribe(self, channel: str, kind: str, value: str) -> bool:
        """Remove the channel's subscription to (kind, value); False when it had none."""
        _, count = self._run(self._sql("DELETE FROM subscriptions WHERE channel = ? AND kind = ? AND value = ?"),
                             (channel, kind, value))
        if count:
            log.info("channel %s unsubscribed from %s %r", channel, kind, value)
        return count > 0

    def subscriptions(self, channel: str | None = None) -> list[Subscription]:
        """The channel's subscriptions, oldest first (every channel's when None, by channel then oldest)."""
        if channel is None:
            rows, _ = self._run(f"SELECT {_COLUMNS} FROM subscriptions ORDER BY channel, created_at, kind, value")
        else:
            rows, _ = self._run(self._sql(f"SELECT {_COLUMNS} FROM subscriptions WHERE channel = ?"
                                          " ORDER BY created_at, kind, value"), (channel,))
        return [Subscription(*row) for row in rows]
