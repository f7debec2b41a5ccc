"""Acknowledgement time of a signed Slack event while idle TCP connections hold the HTTP server.

The real bot (bolt App in ``serve --http``'s waitress server, :mod:`bot.http_server`) runs on
127.0.0.1 against the fake Slack Web API. For each count of idle connections, that many sockets are
opened to the server and left silent (connected, nothing sent: no signature needed to do this), then
signed ``app_mention`` events are sent one at a time, each on a fresh connection as Slack does, and
the time to its HTTP response (the ack; Slack wants it within 3 s) is measured. The idle sockets stay
open throughout (a socket the server closes is opened again, as an attacker would).

    .venv/bin/python benchmarks/bench_idle_sockets.py                        # 150 and 500 idle sockets
    .venv/bin/python benchmarks/bench_idle_sockets.py --idle 150 500 --samples 10
    .venv/bin/python benchmarks/bench_idle_sockets.py --waitress-defaults    # waitress's own limits, for comparison
    .venv/bin/python benchmarks/bench_idle_sockets.py --idle 500 --spread 40 # events spread over 40 s: past the
                                                                            # idle timeout, sockets closed and reopened

Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: waitress's own defaults (connection_limit, channel_timeout), before bulletin-bot set them.
WAITRESS_DEFAULTS = {"http_connection_limit": 100, "http_idle_timeout": 120}


class IdleSockets:
    """``count`` silent TCP connections to ``port``, reopened when the server closes one."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.sockets: list[socket.socket] = []
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, daemon=True, name="idle-sockets")

    def open(self) -> "IdleSockets":
        for _ in range(self.count):
            self.sockets.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
        self._thread.start()
        return self

    def _keep(self) -> None:
        import select

        while not self._stop.wait(0.2):
            poller = select.poll()  # select() stops at 1024 descriptors
            by_fd = {s.fileno(): s for s in self.sockets}
            for fd in by_fd:
                poller.register(fd, select.POLLIN)
            for fd, _ in poller.poll(0):  # readable and empty: the server closed it
                s = by_fd[fd]
                try:
                    if s.recv(1, socket.MSG_PEEK):
                        continue
                except OSError:
                    pass
                s.close()
                self.sockets.remove(s)
                try:
                    self.sockets.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
                    self.reopened += 1
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self.sockets:
            s.close()


def signed_ack(bot, ts: str, timeout: float) -> float | None:
    """Seconds until a signed app_mention is answered (HTTP 200), or None when ``timeout`` passes first."""
    from tests.slack_client import mention

    body = bot.event_body(mention("what fine did the regulator impose", ts=ts))
    stamp = str(int(time.time()))
    request = urllib.request.Request(bot.url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": bot.verifier.generate_signature(timestamp=stamp, body=body)})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"the event was answered HTTP {response.status}")
    except (TimeoutError, socket.timeout, urllib.error.URLError) as exc:
        if isinstance(exc, urllib.error.URLError) and not isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise
        return None
    return time.perf_counter() - start


def measure(idle: int, samples: int, timeout: float, settings: dict, spread: float = 0.0) -> dict:
    from retrieval.search import Searcher
    from tests.fakes import HashEncoder
    from tests.slack_client import BotUnderTest
    from tests.slack_fake import FakeSlack

    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
        data = Path(tmp) / "data"
        with BotUnderTest(fake, Searcher(data, HashEncoder()), data, **settings) as bot:
            sockets = IdleSockets(bot.server.server_port, idle).open()
            try:
                time.sleep(0.5)  # let the server accept them
                accepted = bot.server.open_connections
                acks = []
                for i in range(samples):
                    if i and spread:
                        time.sleep(spread / max(1, samples - 1))
                    acks.append(signed_ack(bot, f"{idle}.{i:04d}", timeout))
                time.sleep(0.2)
                reopened = sockets.reopened
            finally:
                sockets.close()
    done = [a for a in acks if a is not None]
    return {"idle": idle, "accepted": accepted, "acks": done, "timeouts": len(acks) - len(done),
            "reopened": reopened}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, nargs="+", default=[150, 500], help="idle connections (default 150 500)")
    parser.add_argument("--samples", type=int, default=5, help="signed events timed per count (default 5)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before an ack counts as lost (default 10)")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="seconds over which the events of a row are spread (default 0: one after another)")
    parser.add_argument("--waitress-defaults", action="store_true",
                        help="serve with waitress's own connection_limit=100 and channel_timeout=120, for comparison")
    args = parser.parse_args()
    import logging

    logging.getLogger("bot").setLevel(logging.ERROR)  # the answers say "nothing indexed": not what is measured
    logging.getLogger("waitress").setLevel(logging.ERROR)
    from bot.server.http_server import CONNECTION_LIMIT, IDLE_TIMEOUT

    settings = dict(WAITRESS_DEFAULTS) if args.waitress_defaults else {}
    if args.waitress_defaults:  # as before issue 18: nor were the longest-silent connections closed at the limit
        from bot.server.http_server import HttpServer

        HttpServer._accepts_when_full = lambda self: None  # type: ignore[method-assign]
    limit = settings.get("http_connection_limit", CONNECTION_LIMIT)
    idle_timeout = settings.get("http_idle_timeout", IDLE_TIMEOUT)
    spread = f", spread over {args.spread:.0f} s" if args.spread else ""
    print(f"connection limit {limit}, idle timeout {idle_timeout} s; {args.samples} signed events per row, "
          f"each on a fresh connection{spread}; an ack slower than {args.timeout:.0f} s counts as lost")
    print(f"{'idle sockets':>12} {'accepted':>9} {'ack p50 (ms)':>13} {'ack max (ms)':>13} {'lost':>5} {'reopened':>9}")
    for idle in args.idle:
        row = measure(idle, args.samples, args.timeout, settings, args.spread)
        acks = row["acks"]
        p50 = f"{statistics.median(acks) * 1000:.1f}" if acks else "-"
        worst = f"{max(acks) * 1000:.1f}" if acks else "-"
        print(f"{row['idle']:>12} {row['accepted']:>9} {p50:>13} {worst:>13} {row['timeouts']:>5} {row['reopened']:>9}")


if __name__ == "__main__":
    main()
