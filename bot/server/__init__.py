"""Serving: ``bulletin-bot serve`` — the bolt app over Socket Mode or HTTP, health, the inbox watcher.

- :mod:`.serve` — :func:`serve_forever`: load the searcher, start the app, the digest scheduler, the
  inbox watcher and the housekeeping thread; stop cleanly on SIGTERM;
- :mod:`.http_server` — the HTTP server (waitress) of ``serve --http`` and the health endpoints;
- :mod:`.health` — ``GET /healthz`` and ``GET /readyz``;
- :mod:`.inbox` — ingest the files dropped into the inbox folder.
"""

from __future__ import annotations

from .serve import serve_forever

__all__ = ["serve_forever"]
