"""Health endpoints, as WSGI apps registered on :class:`bot.server.serve.WsgiRoutes`.

- ``GET /healthz``: the process is alive and serving HTTP: always ``200 {"status": "ok"}``.
- ``GET /readyz``: the model is loaded and an index generation is in force:
  ``200 {"status": "ready", "generation": "…", "passages": 1234, "model": "…", "store": {…}}``; with the
  state store down (:mod:`bot.state.resilient`) still 200 — questions are answered from the index — but
  ``"status": "degraded"`` and ``"store": {"ok": false, "down_since", "error", "waiting": {"answers",
  "votes", "threads"}, "lost": {…}}``, for monitoring to alert on; until then
  ``503 {"status": "loading"}``, or ``503 {"status": "no index", "detail": "…"}`` when nothing is
  indexed yet, or the generation in force is not loaded (it failed to load, or was not loaded yet).
  A probe never loads nor reloads a generation: it reports the one the searcher holds
  (:attr:`~retrieval.search.searcher.Searcher.loaded_index`); the next question, or ``serve``'s index
  follower, loads a fresh ``ingest`` without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Callable, Iterable

from retrieval.errors import RetrievalError

if TYPE_CHECKING:
    from retrieval.search.searcher import Searcher

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


class Readiness:
    """Whether the server can answer; shared by the loading thread and the HTTP threads.

    Not ready until :meth:`set_ready` hands over the loaded searcher (a
    :class:`~retrieval.search.searcher.Searcher` whose model has been warmed up).
    """

    def __init__(self) -> None:
        self._searcher: Searcher | None = None
        self._ready = threading.Event()
        #: The bot's :class:`~bot.state.resilient.ResilientStore` (anything with ``health() -> dict``), reported
        #: under "store"; None: not reported.
        self.store = None

    def set_ready(self, searcher: Searcher) -> None:
        """The model is loaded: from now on readiness follows ``searcher.loaded_index``."""
        self._searcher = searcher
        self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`set_ready` was called; False when ``timeout`` seconds pass first."""
        return self._ready.wait(timeout)

    def status(self) -> tuple[int, dict]:
        """``(HTTP status, body)`` as /readyz answers: 200 with generation, passages and model, or 503."""
        searcher = self._searcher
        if not self._ready.is_set() or searcher is None:
            return 503, {"status": "loading"}
        index = searcher.loaded_index  # never loads: a probe every few seconds must not retry a failed load
        if index is None:
            return 503, {"status": "no index", "detail": _not_loaded(searcher)}
        if len(index) == 0:
            return 503, {"status": "no index", "detail": "the index generation in force holds no passages; "
                                                          "run `bulletin-bot ingest`"}
        body = {"status": "ready", "generation": index.generation, "passages": len(index),
                "model": searcher.encoder.name}
        if self.store is not None:
            body["store"] = self.store.health()
            if not body["store"]["ok"]:
                body["status"] = "degraded"
        return 200, body


def _not_loaded(searcher: Searcher) -> str:
    """Why nothing is loaded, from the data directory's ``CURRENT`` (read, never loaded)."""
    from retrieval.index.generations import current_generation

    try:
        name = current_generation(searcher.data_dir)
    except RetrievalError as exc:  # an unreadable CURRENT
        return str(exc)
    if name is None:
        return f"no bulletins indexed yet in {searcher.data_dir}; run `bulletin-bot ingest`"
    return (f"index generation {name} is not loaded: it loads with the next question, unless it failed to load "
            "(the log says why; `bulletin-bot doctor` checks it)")


def _json(start_response: Callable, status: int, body: dict) -> Iterable[bytes]:
    reason = {200: "OK", 503: "Service Unavailable"}[status]
    data = json.dumps(body).encode()
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                          ("Cache-Control", "no-store")])
    return [data]


def healthz(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """WSGI app for ``GET /healthz``: 200 ``{"status": "ok"}`` while the process serves HTTP."""
    return _json(start_response, 200, {"status": "ok"})


def readyz(readiness: Readiness):
    """WSGI app for ``GET /readyz`` answering from ``readiness`` (see :meth:`Readiness.status`)."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            status, body = readiness.status()
        except Exception as exc:  # noqa: BLE001 - a probe must answer, never hang up
            log.exception("readiness check failed")
            status, body = 503, {"status": "error", "detail": type(exc).__name__}
        return _json(start_response, status, body)

    return app


def register(routes, readiness: Readiness) -> None:
    """Add ``GET /healthz`` and ``GET /readyz`` to a :class:`~bot.server.serve.WsgiRoutes`."""
    routes.add("GET", HEALTH_PATH, healthz)
    routes.add("GET", READY_PATH, readyz(readiness))
