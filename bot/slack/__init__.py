"""Slack: the bolt app, Block Kit rendering, and the listeners.

- :mod:`.app` — :func:`create_app` (wiring only) and :func:`make_client` (the Web API client, retries);
- :mod:`.blocks` — answers as Block Kit messages (pure), within Slack's limits, with plain fallback text;
- :mod:`.timeline_blocks` — a timeline as Block Kit messages;
- :mod:`.citations` — a citation as mrkdwn; :mod:`.mrkdwn` — escaping, quoting, links, incoming markup;
- :mod:`.listeners` — one module per Slack surface, each with ``register(app, deps)``.
"""

from __future__ import annotations

from .app import create_app, make_client

__all__ = ["create_app", "make_client"]
