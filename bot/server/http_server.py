"""The production HTTP server of ``serve``: waitress (a pure-Python, threaded WSGI server with keep-alive),
behind the small interface :mod:`bot.server.serve` and the tests use (``server_port``, ``serve_forever``,
``shutdown``, ``server_close``).

- threads: :data:`HTTP_THREADS` handle requests (bolt acknowledges within milliseconds; answers are
  built by the responder's own workers, so these threads are never held by a search);
- limits: request bodies over :data:`MAX_REQUEST_BYTES` get 413, headers over :data:`MAX_HEADER_BYTES`
  431; idle keep-alive connections close after :data:`CHANNEL_TIMEOUT` seconds;
- graceful shutdown (:meth:`HttpServer.shutdown`, on SIGTERM): stop accepting at once, finish the
  requests in flight (at most ``grace`` seconds), then stop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

log = logging.getLogger(__name__)

HTTP_THREADS = 16
#: Slack's events, slash commands and button payloads are a few kB; 1 MiB leaves room and stops abuse.
MAX_REQUEST_BYTES = 1 << 20
MAX_HEADER_BYTES = 64 << 10
CHANNEL_TIMEOUT = 60
#: Seconds :meth:`HttpServer.shutdown` waits for the requests in flight.
SHUTDOWN_GRACE_SECONDS = 10.0

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class HttpServer:
    """A bound (not yet serving) waitress server for one WSGI app.

    Args:
        app: the WSGI application.
        host, port: where to listen (``port=0``: any free port; see :attr:`server_port`).
        threads: request threads.

    Raises:
        OSError: the address is in use or cannot be bound.
    """

    def __init__(self, app: WsgiApp, host: str = "0.0.0.0", port: int = 3000, threads: int = HTTP_THREADS) -> None:
        from waitress.server import create_server

        self._server = create_server(app, host=host, port=port, threads=threads, ident="bulletin-bot",
                                     max_request_body_size=MAX_REQUEST_BYTES,
                                     max_request_header_size=MAX_HEADER_BYTES, channel_timeout=CHANNEL_TIMEOUT,
                                     clear_untrusted_proxy_headers=True, expose_tracebacks=False)
        self._drain = threading.Event()
        self._deadline = 0.0
        self._stopped = threading.Event()
        self._closed = False

    @property
    def server_port(self) -> int:
        """The port listened on."""
        return int(self._server.effective_port)

    @property
    def server_address(self) -> tuple[str, int]:
        """(host, port) listened on."""
        return str(self._server.effective_host), self.server_port

    def _busy(self) -> bool:
        from waitress.channel import HTTPChannel

        dispatcher = self._server.task_dispatcher
        channels = [c for c in self._server._map.values() if isinstance(c, HTTPChannel)]
        return bool(dispatcher.active_count or dispatcher.queue or any(c.requests for c in channels))

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown`; polls every ``poll_interval`` seconds for it."""
        from waitress import wasyncore

        listening = True
        try:
            while True:
                if self._drain.is_set():
                    if listening:  # stop accepting: close the listening socket only
                        wasyncore.dispatcher.close(self._server)
                        listening = False
                    if not self._busy() or time.monotonic() >= self._deadline:
                        break
                wasyncore.loop(timeout=poll_interval, map=self._server._map, use_poll=True, count=1)
        finally:
            self._stopped.set()

    def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting connections, let the requests in flight finish (at most ``grace`` seconds),
        and return once :meth:`serve_forever` has returned (at once when it never ran)."""
        self._deadline = time.monotonic() + grace
        self._drain.set()
        self._server.pull_trigger()  # wake the loop
        if not self._stopped.wait(grace + 5):
            log.warning("the HTTP server did not stop within %.0f s", grace + 5)

    def server_close(self) -> None:
        """Close every socket and stop the request threads (idempotent)."""
        from waitress import wasyncore

        if self._closed:
            return
        self._closed = True
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)
        wasyncore.close_all(self._server._map)
