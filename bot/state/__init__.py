"""The bot's state: the :class:`StateStore` protocol, its records, and the stores behind it.

- :mod:`.protocol` — :class:`StateStore` and its records (answers, feedback, digests, subscriptions);
- :mod:`.stores` — :func:`open_store`: PostgreSQL when ``BULLETIN_BOT_DATABASE_URL`` is set, else SQLite;
- :mod:`.sqlite` — :class:`~bot.state.sqlite.SQLiteStore` (``DATA_DIR/bot.sqlite``), with :mod:`.migrations`;
- :mod:`.postgres` — :class:`~bot.state.postgres.PgStore`, shared by replicas, with :mod:`.pg_migrations`;
- :mod:`.subscriptions` — the digest subscriptions' SQL, shared by both stores;
- :mod:`.records` — :class:`~bot.state.records.AnswerDetails`: the audit trail's part of an answer record
  (generation, tier, filters, each shown hit's citation and quote hash), with :mod:`.audit_sql`, its SQL;
- :mod:`.resilient` — :class:`~bot.state.resilient.ResilientStore`: ``serve``'s store, answering on through an
  outage of the store underneath (votes and answers kept in memory, written when it is back).

``tests/test_store_contract.py`` runs one contract suite against both stores.
"""

from __future__ import annotations

from .protocol import AnswerRecord, DigestRecord, Feedback, StateStore, Subscription
from .records import AnswerDetails, ShownHit
from .stores import open_store

__all__ = ["AnswerDetails", "AnswerRecord", "DigestRecord", "Feedback", "ShownHit", "StateStore", "Subscription",
           "open_store"]
