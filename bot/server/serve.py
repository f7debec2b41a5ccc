"""The server: Socket Mode, or HTTP (Events API, interactivity and slash commands at ``/slack/events``).

HTTP mode runs bolt's WSGI adapter in waitress (:mod:`bot.server.http_server`: threads, keep-alive, request
size limits, graceful shutdown). :class:`WsgiRoutes` is the one
dispatch point: ``(method, path) -> WSGI app``; ``GET /healthz`` and ``GET /readyz`` (:mod:`bot.server.health`)
are served in both modes (in Socket Mode they are all the HTTP server serves).

Start-up order (:func:`serve_forever`): settings checked, ``auth.test``, the HTTP server listening,
*then* the model and the index loaded (seconds), so /healthz answers at once and /readyz says 503 until
the bot can answer.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from . import health
from .health import Readiness
from .http_server import HttpServer

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: How often ``serve`` looks at ``CURRENT`` and loads a freshly ingested generation (/readyz never loads one).
FOLLOW_INDEX_SECONDS = 30.0

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class WsgiRoutes:
    """A WSGI app dispatching on (method, path); anything else is 404 (or 405 for a known path)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], WsgiApp] = {}

    def add(self, method: str, path: str, app: WsgiApp) -> None:
        """Serve ``method path`` with the WSGI app ``app``."""
        self.routes[(method.upper(), path)] = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET").upper(), environ.get("PATH_INFO", "/")
        target = self.routes.get((method, path))
        if target is not None:
            return target(environ, start_response)
        status = "405 Method Not Allowed" if any(p == path for _, p in self.routes) else "404 Not Found"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [status.encode()]


def wsgi_app(app: App, readiness: Readiness | None = None) -> WsgiRoutes:
    """The HTTP surface of the bot: ``POST /slack/events`` → bolt (request signatures checked there);
    with ``readiness``, also ``GET /healthz`` and ``GET /readyz``."""
    routes = health_routes(readiness) if readiness is not None else WsgiRoutes()
    routes.add("POST", EVENTS_PATH, SlackRequestHandler(app, path=EVENTS_PATH))
    return routes


def health_routes(readiness: Readiness) -> WsgiRoutes:
    """Only ``GET /healthz`` and ``GET /readyz`` (what Socket Mode serves over HTTP)."""
    routes = WsgiRoutes()
    health.register(routes, readiness)
    return routes


def make_wsgi_server(routes: WsgiApp, host: str = "0.0.0.0", port: int = 3000, **limits) -> HttpServer:
    """A waitress server for ``routes``, bound but not yet serving (``port=0``: any free port;
    the chosen one is ``server.server_port``); ``limits``: ``connection_limit``, ``idle_timeout``
    (:class:`~bot.server.http_server.HttpServer`). Raises OSError when the address is in use."""
    return HttpServer(routes, host, port, **limits)


def server_limits(settings) -> dict:
    """The HTTP server's connection limits from :class:`~bot.config.Settings`."""
    return {"connection_limit": settings.http_connection_limit, "idle_timeout": settings.http_idle_timeout}


def make_http_server(app: App, host: str = "0.0.0.0", port: int = 3000,
                     readiness: Readiness | None = None, **limits) -> HttpServer:
    """:func:`make_wsgi_server` for :func:`wsgi_app` ``(app, readiness)``."""
    return make_wsgi_server(wsgi_app(app, readiness), host, port, **limits)


def _serve_in_thread(server: HttpServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http", daemon=True)
    thread.start()
    return thread


def start_http_in_thread(app: App, host: str = "127.0.0.1", port: int = 0,
                         readiness: Readiness | None = None, **limits) -> tuple[HttpServer, threading.Thread]:
    """Serve in a daemon thread (tests, benchmarks); stop with ``server.shutdown(); server.server_close()``."""
    server = make_http_server(app, host, port, readiness, **limits)
    return server, _serve_in_thread(server)


class _WhenReady:
    """A searcher whose ``search`` waits until the model and the index are loaded, so a question that
    arrives while the server starts waits for the load instead of loading a second copy of the model."""

    def __init__(self, searcher, readiness: Readiness) -> None:
        self._searcher, self._readiness = searcher, readiness

    def search(self, *args, **kwargs):
        self._readiness.wait()
        return self._searcher.search(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._searcher, name)


def housekeeping(searcher, store, stop: threading.Event, every: float | None = None) -> threading.Thread:
    """Start a daemon thread that, every ``every`` seconds (default :data:`FOLLOW_INDEX_SECONDS`) until
    ``stop`` is set, loads a newly ingested generation (so readiness follows an ``ingest`` without a
    question; a generation that fails to load is logged once by the searcher and not retried) and,
    once a day (:data:`bot.state.sqlite.PURGE_EVERY_SECONDS`), purges what the store keeps past its retention."""
    from bot.state import sqlite as store_mod
    from retrieval.errors import RetrievalError

    every = FOLLOW_INDEX_SECONDS if every is None else every

    def run() -> None:
        last_purge = time.monotonic()  # the store purged itself when it opened
        while not stop.wait(every):
            try:
                searcher.index
            except RetrievalError:
                pass  # nothing indexed yet, or a failed load the searcher has logged
            except Exception:  # noqa: BLE001 - housekeeping must keep going
                log.exception("following the index failed")
            if store is not None and time.monotonic() - last_purge >= store_mod.PURGE_EVERY_SECONDS:
                last_purge = time.monotonic()
                try:
                    store.purge()
                except Exception:  # noqa: BLE001
                    log.exception("purging the bot's store failed")

    thread = threading.Thread(target=run, name="housekeeping", daemon=True)
    thread.start()
    return thread


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM: shut down as on Ctrl-C (stop accepting, finish what is in flight)


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


def load_searcher(data_dir, encoder):
    """A :class:`~retrieval.search.searcher.Searcher` with the index and the model loaded now, not on the first question."""
    from retrieval.search.searcher import Searcher

    return warm_up(Searcher(data_dir, encoder))


def warm_up(searcher):
    """Load ``searcher``'s index generation and model now (returns ``searcher``).

    With nothing indexed yet the server still starts (answers say so) and picks up the first ``ingest``.
    (faiss' threads are the searcher's: set when it was created, ``BULLETIN_BOT_FAISS_THREADS``.)

    Raises:
        IndexMismatchError: the generation in force fails its checks.
    """
    from retrieval.errors import IndexNotFoundError

    try:
        index = searcher.index
        log.info("index generation %s loaded (%d passages)", index.generation, len(index))
    except IndexNotFoundError as exc:
        log.warning("%s; answering that nothing is indexed until then", exc)
    searcher.encoder.encode(["warm up"])
    return searcher


def _open_state(settings, open_store, resilient):
    """The bot's store, resilient to outages (:mod:`bot.state.resilient`). A PostgreSQL server that cannot
    be reached at start (:class:`~bot.state.protocol.StoreUnreachable`) does not stop ``serve``: it starts
    degraded and opens the store when the server answers. A refused login, an unknown database or a newer
    schema still stop it with one sentence (ConfigurationError)."""
    from bot.state.protocol import StoreUnreachable

    try:
        return resilient(open_store(settings))
    except StoreUnreachable as exc:
        from bot.state.postgres import describe_url

        log.warning("%s; starting without it: questions are answered, votes are kept in memory until it answers",
                    exc)
        return resilient.starting_down(lambda: open_store(settings), exc, dedupe_seconds=settings.dedupe_seconds,
                                       label=f"PgStore({describe_url(settings.database_url)!r})")


def serve_forever(settings, searcher, *, http: bool, host: str | None = None, port: int | None = None,
                  stop: threading.Event | None = None,
                  on_listening: Callable[[HttpServer], None] | None = None,
                  inbox_interval: float | None = None) -> None:
    """Open the store, build the app, listen, load the model and the index, and serve until interrupted.

    HTTP mode serves /slack/events, /healthz and /readyz (a question that arrives while loading waits
    for it). Socket Mode connects to Slack once loaded and serves only /healthz and /readyz over HTTP
    (a port in use is then logged, not fatal).

    Args:
        settings: :class:`~bot.config.Settings`.
        searcher: a :class:`~retrieval.search.searcher.Searcher`, not yet loaded (:func:`warm_up` loads it here).
        http: HTTP mode rather than Socket Mode.
        host, port: where to listen (default ``settings.http_host`` / ``settings.http_port``; 0: any port).
        stop: set it to make this return (tests); otherwise it runs until SIGINT or SIGTERM.
        on_listening: called with the bound server before the model and index load (tests learn the port).
        inbox_interval: seconds between looks at the inbox (``settings.inbox_path``, watched in a daemon
            thread once loaded; default :data:`bot.server.inbox.DEFAULT_INTERVAL`).

    Raises:
        SettingsError: Slack rejects SLACK_BOT_TOKEN, or HTTP mode cannot listen on the port.
        IndexMismatchError: the index generation in force fails its checks.
    """
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.config import SettingsError
    from bot.slack.app import create_app
    from bot.state.stores import open_store

    host = settings.http_host if host is None else host
    port = settings.http_port if port is None else port
    from bot.state.resilient import ResilientStore

    readiness = Readiness()
    store = _open_state(settings, open_store, ResilientStore)
    readiness.store = store
    try:
        app = create_app(settings, _WhenReady(searcher, readiness), store)
    except BoltError as exc:  # auth.test failed: a revoked or mistyped token, or a wrong SLACK_API_URL
        raise SettingsError(f"Slack did not accept SLACK_BOT_TOKEN at {settings.api_url}: {exc}") from None
    except OSError as exc:  # URLError, timeouts: Slack is unreachable for bolt's start-up auth.test
        reason = getattr(exc, "reason", None) or exc.strerror or exc.__class__.__name__
        raise SettingsError(f"cannot reach Slack at {settings.api_url} to check SLACK_BOT_TOKEN ({reason}); "
                            "check the network, a proxy, or SLACK_API_URL") from None
    from bot.digest.schedule import start_digest_scheduler

    # The digest reads the index through the searcher: a bulletin ingested while serving is in the next digest.
    scheduler = start_digest_scheduler(settings, lambda: searcher.index, store)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # docker stop: shut down as on Ctrl-C
    server = handler = None
    watching = threading.Event()  # set on shutdown: the inbox watcher stops
    try:
        try:
            server = make_wsgi_server(wsgi_app(app, readiness) if http else health_routes(readiness), host, port,
                                      **server_limits(settings))
        except OSError as exc:
            if http:
                raise SettingsError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                                    "choose another port with --port or BULLETIN_BOT_HTTP_PORT") from None
            log.warning("health endpoints not served: cannot listen on %s:%d (%s)", host, port, exc.strerror)
        if server is not None:
            _serve_in_thread(server)
            log.info("listening on http://%s:%d (%s)", host, server.server_port,
                     f"{EVENTS_PATH}, /healthz, /readyz" if http else "/healthz, /readyz")
            if on_listening is not None:
                on_listening(server)
        warm_up(searcher)
        readiness.set_ready(searcher)
        housekeeping(searcher, store, stop)
        from retrieval.ingest import ingest

        from .inbox import DEFAULT_INTERVAL, start_watching

        start_watching(settings.inbox_path, lambda files: ingest(files, settings.data_dir, searcher.encoder,
                                                                   max_passages_per_file=settings.max_passages_per_file),
                       DEFAULT_INTERVAL if inbox_interval is None else inbox_interval, watching)
        log.info("ready")
        if not http:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("connecting to Slack in Socket Mode")
            handler = SocketModeHandler(app, settings.app_token)
            try:
                handler.connect()
            except SlackApiError as exc:  # apps.connections.open refused the app-level token
                raise SettingsError(f"Slack did not accept SLACK_APP_TOKEN for Socket Mode "
                                    f"({exc.response.get('error')}); `bulletin-bot doctor` says how to fix it") from None
        _wait(stop)
    except KeyboardInterrupt:
        log.info("shutting down")
    finally:
        watching.set()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if handler is not None:
            handler.close()
        if server is not None:
            server.shutdown()  # no new requests; the ones in flight finish (bolt has queued their answers)
            server.server_close()
        app.responder.shutdown(wait=True)  # the answers in flight and queued are posted, then exit
        store.close()  # PostgreSQL: the pool's connections; SQLite: this thread's
