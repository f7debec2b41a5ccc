"""Slack listeners, one module per surface, each with ``register(app, deps)`` (bolt's starter-template style).

- :mod:`.mentions`: ``app_mention`` in channels;
- :mod:`.messages`: DMs, channel messages mentioning the bot, threads the bot answered in;
- :mod:`.uploads`: files shared with the bot in a DM or a mention, added as bulletins;
- :mod:`.commands`: ``/bulletin`` (and :mod:`.subscribe`: ``/bulletin subscribe|unsubscribe|subscriptions``);
- :mod:`.actions`: the "More results" and "Share in channel" buttons;
- :mod:`.feedback`: 👍 / 👎, and on a 👎 "which passage answered it?";
- :mod:`.reply`: the reply logic they share (search → store → render, posting, telling errors);
- :mod:`.pool`: the answer workers (a bounded queue; past it the asker hears :data:`BUSY`);
- :mod:`.responder`: :class:`Responder`, the ``deps`` every surface gets;
- :mod:`.registry`: :func:`register`, which attaches every surface (and the global error handler) to an ``App``.

Every listener acknowledges first, then filters (bots, edits, joins, hidden messages) and dedupes
(event id and (channel, ts) in the :class:`~bot.state.protocol.StateStore`), and hands the slow part — search
and Web API calls — to a fixed pool of answer workers, so Slack's 3-second acknowledgement never waits
for a search (https://api.slack.com/apis/events-api#responding). The surfaces' functions take
``deps`` and then bolt's injected arguments by name, and can be called directly in tests.
"""

from __future__ import annotations

from .registry import register
from .responder import Responder

__all__ = ["Responder", "register"]
