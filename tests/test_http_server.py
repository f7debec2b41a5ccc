"""bot.server.http_server: the waitress server of serve --http — keep-alive, size limits, graceful shutdown."""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from bot.server.http_server import MAX_REQUEST_BYTES, HttpServer
from bot.server.serve import WsgiRoutes

started = threading.Event()


def slow(environ, start_response):
    started.set()
    time.sleep(1.0)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished"]


def echo(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(body)).encode()]


@pytest.fixture
def server():
    routes = WsgiRoutes()
    routes.add("GET", "/slow", slow)
    routes.add("POST", "/echo", echo)
    srv = HttpServer(routes, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown(grace=1)
    srv.server_close()
    thread.join(5)
    assert not thread.is_alive()


def test_keep_alive_and_the_request_size_limit(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    for size in (10, 1000):  # two requests on one connection
        conn.request("POST", "/echo", body=b"x" * size)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, str(size).encode())
    conn.close()
    big = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    big.putrequest("POST", "/echo")
    big.putheader("Content-Length", str(MAX_REQUEST_BYTES + 1))
    big.endheaders()  # refused on the declared length, before the body is read
    assert big.getresponse().status == 413
    big.close()


def test_shutdown_stops_accepting_and_finishes_the_request_in_flight(server):
    started.clear()
    result: list = []

    def request() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/slow")
        resp = conn.getresponse()
        result.append((resp.status, resp.read()))

    client = threading.Thread(target=request)
    client.start()
    assert started.wait(5)
    stopper = threading.Thread(target=server.shutdown, kwargs={"grace": 5})
    stopper.start()
    time.sleep(0.3)
    with pytest.raises(OSError):  # no longer accepting
        http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=2).request("GET", "/slow")
    client.join(10)
    stopper.join(10)
    assert result == [(200, b"finished")] and not stopper.is_alive()


# -- idle sockets: nobody may hold the server's connections and stall Slack's events ---------------------------
def _idle_sockets(port: int, count: int) -> list:
    import socket

    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]


def _signed_event_with_idle_sockets(tmp_path, idle: int, **settings) -> tuple[int, int]:
    """(HTTP status of one signed app_mention sent with ``idle`` silent sockets open, connections the
    server held). The harness's 10 s request timeout is only a hang guard; no time is asserted."""
    from retrieval.search import Searcher
    from tests.fakes import HashEncoder
    from tests.slack_client import BotUnderTest, mention
    from tests.slack_fake import FakeSlack

    with FakeSlack() as fake, BotUnderTest(fake, Searcher(tmp_path, HashEncoder()), tmp_path, **settings) as bot:
        sockets = _idle_sockets(bot.server.server_port, idle)
        try:
            time.sleep(0.7)  # accepted (and, at the limit, old enough to be closed)
            held = bot.server.open_connections
            status, _ = bot.send_event(mention("what fine did the regulator impose", ts="900.1"))
            return status, held
        finally:
            for s in sockets:
                s.close()


def test_a_signed_event_is_answered_with_150_idle_sockets_open(tmp_path):
    status, held = _signed_event_with_idle_sockets(tmp_path, 150)
    assert status == 200 and held >= 150


def test_past_the_connection_limit_the_longest_silent_sockets_make_room(tmp_path):
    status, held = _signed_event_with_idle_sockets(tmp_path, 60, http_connection_limit=20)
    assert status == 200 and held <= 20


def test_a_silent_connection_is_closed_after_the_idle_timeout():
    routes = WsgiRoutes()
    srv = HttpServer(routes, "127.0.0.1", 0, threads=2, idle_timeout=1)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        (sock,) = _idle_sockets(srv.server_port, 1)
        sock.settimeout(15)  # a hang guard
        assert sock.recv(1) == b""  # closed by the server, not by the guard (that would raise)
        sock.close()
    finally:
        srv.shutdown(grace=1)
        srv.server_close()


def test_the_http_limits_are_settings():
    from bot.config import Settings, SettingsError

    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "BULLETIN_BOT_HTTP_CONNECTION_LIMIT": "5000",
                           "BULLETIN_BOT_HTTP_IDLE_TIMEOUT": "30"}, dotenv=None)
    assert (s.http_connection_limit, s.http_idle_timeout) == (5000, 30)
    with pytest.raises(SettingsError, match="BULLETIN_BOT_HTTP_IDLE_TIMEOUT must be between 1 and 3600, got 0"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "BULLETIN_BOT_HTTP_IDLE_TIMEOUT": "0"}, dotenv=None)
