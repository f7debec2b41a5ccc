"""``open_store``: the :class:`~bot.state.protocol.StateStore` the settings name, SQLite or PostgreSQL.

Apart from the stores so that they need not import back what chooses between them.
"""

from __future__ import annotations

from .protocol import StateStore


def open_store(settings) -> StateStore:
    """The bot's store for ``settings`` (:class:`~bot.config.Settings`), with its dedupe window and retention:
    PostgreSQL when ``settings.database_url`` is set (:class:`bot.state.postgres.PgStore`), else SQLite in
    ``DATA_DIR/bot.sqlite`` (``settings.store_path``).

    Raises:
        ConfigurationError: the store was written by a newer bulletin-bot, or the database cannot be used.
    """
    if getattr(settings, "database_url", None):
        from .postgres import PgStore

        return PgStore(settings.database_url, dedupe_seconds=settings.dedupe_seconds,
                       retention_days=settings.retention_days)
    from .sqlite import SQLiteStore

    return SQLiteStore(settings.store_path, dedupe_seconds=settings.dedupe_seconds,
                       retention_days=settings.retention_days)
