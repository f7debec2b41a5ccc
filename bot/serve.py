"""The server: Socket Mode, or HTTP (Events API, interactivity and slash commands at ``/slack/events``).

HTTP mode runs bolt's WSGI adapter in a threading ``wsgiref`` server. :class:`WsgiRoutes` is the one
dispatch point: ``(method, path) -> WSGI app``, where later routes (``GET /healthz``, ``/readyz``) go.
"""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

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


def wsgi_app(app: App) -> WsgiRoutes:
    """The HTTP surface of the bot: ``POST /slack/events`` → bolt (request signatures checked there)."""
    routes = WsgiRoutes()
    routes.add("POST", EVENTS_PATH, SlackRequestHandler(app, path=EVENTS_PATH))
    return routes


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s %s", self.address_string(), format % args)


def make_http_server(app: App, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """A threading WSGI server for the bot, bound but not yet serving (``port=0``: any free port;
    the chosen one is ``server.server_port``)."""
    return make_server(host, port, wsgi_app(app), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def start_http_in_thread(app: App, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, threading.Thread]:
    """Serve in a daemon thread (tests, benchmarks); stop with ``server.shutdown(); server.server_close()``."""
    server = make_http_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http", daemon=True)
    thread.start()
    return server, thread


def run_http(app: App, host: str, port: int) -> None:
    """Serve HTTP until interrupted."""
    server = make_http_server(app, host, port)
    log.info("serving the Events API at http://%s:%d%s", host, server.server_port, EVENTS_PATH)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def run_socket_mode(app: App, app_token: str) -> None:
    """Connect to Slack over Socket Mode (no public URL needed) until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.info("connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token).start()


def load_searcher(data_dir, encoder):
    """A :class:`~retrieval.search.Searcher` with the index and the model loaded now, not on the first question.

    faiss runs single-threaded (one query at a time is faster so, on small machines). With nothing
    indexed yet the server still starts (answers say so) and picks up the first ``ingest``.
    """
    import faiss

    from retrieval.errors import IndexNotFoundError
    from retrieval.search import Searcher

    faiss.omp_set_num_threads(1)
    searcher = Searcher(data_dir, encoder)
    try:
        index = searcher.index
        log.info("index generation %s loaded (%d passages)", index.generation, len(index))
    except IndexNotFoundError as exc:
        log.warning("%s; answering that nothing is indexed until then", exc)
    searcher.encoder.encode(["warm up"])
    return searcher


def serve_forever(settings, searcher, *, http: bool, host: str = "0.0.0.0", port: int = 3000) -> None:
    """Open the store, build the app and serve until interrupted (HTTP or Socket Mode)."""
    from .app import create_app
    from .store import BotStore

    from slack_bolt.error import BoltError

    from .config import SettingsError

    store = BotStore(settings.store_path, dedupe_seconds=settings.dedupe_seconds)
    try:
        app = create_app(settings, searcher, store)
    except BoltError as exc:  # auth.test failed: a revoked or mistyped token, or a wrong SLACK_API_URL
        raise SettingsError(f"Slack did not accept SLACK_BOT_TOKEN at {settings.api_url}: {exc}") from None
    from .digest import start_digest_scheduler

    # The digest reads the index through the searcher: a bulletin ingested while serving is in the next digest.
    scheduler = start_digest_scheduler(settings, lambda: searcher.index, store)
    try:
        if http:
            run_http(app, host, port)
        else:
            run_socket_mode(app, settings.app_token)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        app.responder.shutdown(wait=False)
