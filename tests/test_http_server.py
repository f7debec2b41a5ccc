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
