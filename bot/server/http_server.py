"""The production HTTP server of ``serve``: waitress (a pure-Python, threaded WSGI server with keep-alive),
behind the small interface :mod:`bot.server.serve` and the tests use (``server_port``, ``serve_forever``,
``shutdown``, ``server_close``).

- threads: :data:`HTTP_THREADS` handle requests (bolt acknowledges within milliseconds; answers are
  built by the responder's own workers, so these threads are never held by a search);
- limits: request bodies over :data:`MAX_REQUEST_BYTES` get 413, headers over :data:`MAX_HEADER_BYTES`
  431;
- idle connections: waitress stops *accepting* once ``connection_limit`` connections are open, and a
  connection that sends nothing is closed only after ``channel_timeout`` seconds (checked every
  ``cleanup_interval``). With waitress's defaults (100 connections, 120 s, every 30 s) about a hundred
  idle sockets — no signature needed — kept a signed Slack event waiting 78 s, far past Slack's
  3-second acknowledgement. So: :data:`CONNECTION_LIMIT` connections (the file-descriptor limit is
  raised to fit), idle ones closed after :data:`IDLE_TIMEOUT` seconds, looked at every
  :data:`CLEANUP_INTERVAL` second(s) (``BULLETIN_BOT_HTTP_CONNECTION_LIMIT``,
  ``BULLETIN_BOT_HTTP_IDLE_TIMEOUT``); and at the limit the server does not stop accepting: it closes
  the connections that have been silent longest (no request being served, idle for at least
  :data:`MIN_EVICT_IDLE` s) to make room, so a flood of idle sockets costs the flooder its oldest
  sockets, not Slack its events. A reverse proxy in front is still the defence against floods of real
  requests (README, "Behind a proxy"); ``benchmarks/bench_idle_sockets.py`` measures the ack with 150
  and 500 idle sockets;
- graceful shutdown (:meth:`HttpServer.shutdown`, on SIGTERM): stop accepting at once, finish the
  requests in flight (at most ``grace`` seconds), then stop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

from bot.config import CONNECTION_LIMIT, IDLE_TIMEOUT

log = logging.getLogger(__name__)

HTTP_THREADS = 16
#: Slack's events, slash commands and button payloads are a few kB; 1 MiB leaves room and stops abuse.
MAX_REQUEST_BYTES = 1 << 20
MAX_HEADER_BYTES = 64 << 10
#: CONNECTION_LIMIT: open connections accepted at once (waitress's default is 100); each costs one file
#: descriptor and a few kB. ``BULLETIN_BOT_HTTP_CONNECTION_LIMIT``.
#: IDLE_TIMEOUT: seconds a connection may stay idle (nothing received, no request in progress) before it
#: is closed (waitress's default 120). Slack opens a connection per request or keeps it briefly; a
#: proxy's upstream keep-alive must be shorter than this. ``BULLETIN_BOT_HTTP_IDLE_TIMEOUT``.
#: Seconds between looks for idle connections to close (waitress's default 30).
CLEANUP_INTERVAL = 1
#: At the connection limit, connections silent for at least this many seconds may be closed to make room.
MIN_EVICT_IDLE = 0.5
#: Connections waiting to be accepted (the listen backlog).
BACKLOG = 2048
#: File descriptors kept free beside the connections (index files, the store, Slack's Web API, logs).
SPARE_FILES = 256
#: Seconds :meth:`HttpServer.shutdown` waits for the requests in flight.
SHUTDOWN_GRACE_SECONDS = 10.0

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class HttpServer:
    """A bound (not yet serving) waitress server for one WSGI app.

    Args:
        app: the WSGI application.
        host, port: where to listen (``port=0``: any free port; see :attr:`server_port`).
        threads: request threads.
        connection_limit: open connections accepted at once (past it, new ones wait in the backlog).
        idle_timeout: seconds after which a connection that sends nothing is closed.

    Raises:
        OSError: the address is in use or cannot be bound.
        ValueError: ``connection_limit`` or ``idle_timeout`` is below 1.
    """

    def __init__(self, app: WsgiApp, host: str = "0.0.0.0", port: int = 3000, threads: int = HTTP_THREADS,
                 connection_limit: int = CONNECTION_LIMIT, idle_timeout: int = IDLE_TIMEOUT) -> None:
        from waitress.server import create_server

        if connection_limit < 1 or idle_timeout < 1:
            raise ValueError(f"connection_limit and idle_timeout must be >= 1, got {connection_limit} and "
                             f"{idle_timeout}")
        connection_limit = fit_file_limit(connection_limit)
        self.connection_limit, self.idle_timeout = connection_limit, idle_timeout
        self._server = create_server(app, host=host, port=port, threads=threads, ident="bulletin-bot",
                                     max_request_body_size=MAX_REQUEST_BYTES,
                                     max_request_header_size=MAX_HEADER_BYTES,
                                     # + the listening socket and waitress's trigger, which count too
                                     connection_limit=connection_limit + 2, channel_timeout=idle_timeout,
                                     cleanup_interval=min(CLEANUP_INTERVAL, idle_timeout), backlog=BACKLOG,
                                     asyncore_use_poll=True,  # select() stops at 1024 descriptors
                                     clear_untrusted_proxy_headers=True, expose_tracebacks=False)
        self._evicted, self._next_evict_log = 0, 0.0
        self._accepts_when_full()
        self._drain = threading.Event()
        self._deadline = 0.0
        self._stopped = threading.Event()
        self._closed = False

    def _accepts_when_full(self) -> None:
        """At the connection limit, close the longest-silent idle connections (so the next one is accepted)
        instead of leaving new connections in the backlog until idle ones time out."""
        server = self._server
        readable = server.readable
        limit = server.adj.connection_limit

        def evicting_readable() -> bool:
            if server.accepting and len(server._map) >= limit:
                self.evict_idle(len(server._map) - limit + max(1, limit // 20))
            return readable()

        server.readable = evicting_readable

    def evict_idle(self, count: int) -> int:
        """Mark up to ``count`` idle connections (no request queued or being served, silent for at
        least :data:`MIN_EVICT_IDLE` s), longest-silent first, to be closed; returns how many."""
        now = time.time()
        idle = sorted((c for c in list(self._server.active_channels.values())
                       if not c.requests and not c.will_close and c.last_activity <= now - MIN_EVICT_IDLE),
                      key=lambda c: c.last_activity)[:max(0, count)]
        for channel in idle:
            channel.will_close = True
        self._evicted += len(idle)
        if self._evicted and time.monotonic() >= self._next_evict_log:  # one line a minute, not one per socket
            log.warning("HTTP connection limit (%d) reached: closed %d connection(s) silent longest to make room "
                        "(an idle-socket flood? see README, Behind a proxy)", self.connection_limit, self._evicted)
            self._evicted, self._next_evict_log = 0, time.monotonic() + 60.0
        return len(idle)

    @property
    def open_connections(self) -> int:
        """Client connections open now (accepted, not yet closed)."""
        from waitress.channel import HTTPChannel

        return sum(isinstance(c, HTTPChannel) for c in list(self._server._map.values()))

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


def fit_file_limit(connections: int) -> int:
    """Raise the soft limit of open files (up to the hard one) so that ``connections`` sockets fit beside
    :data:`SPARE_FILES`; returns the connections that fit (logged when fewer than asked)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < want:
        fitted = max(1, soft - SPARE_FILES)
        log.warning("only %d open files allowed (ulimit -n): accepting %d connections at once instead of %d",
                    soft, fitted, connections)
        return fitted
    return connections
