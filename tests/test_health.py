"""GET /healthz and GET /readyz: before and after the model and the index load, over real HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.config import Settings
from bot.server.health import Readiness
from bot.server.serve import health_routes, make_wsgi_server, serve_forever
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder
from tests.slack_fake import FakeSlack


def get(url: str, method: str = "GET") -> tuple[int, dict | str]:
    """(status, parsed JSON body or text) of one request."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read().decode()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


@pytest.fixture
def health_server():
    """The health routes alone (as Socket Mode serves them) on 127.0.0.1, any port; yields (url, readiness)."""
    readiness = Readiness()
    server = make_wsgi_server(health_routes(readiness), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", readiness
    server.shutdown()
    server.server_close()


def test_healthz_is_ok_and_readyz_is_503_until_ready(health_server, indexed):
    url, readiness = health_server
    assert get(url + "/healthz") == (200, {"status": "ok"})
    assert get(url + "/readyz") == (503, {"status": "loading"})
    searcher = Searcher(indexed, HashEncoder())
    searcher.index  # serve loads it (warm_up) before it is ready
    readiness.set_ready(searcher)
    status, body = get(url + "/readyz")
    assert status == 200 and body["status"] == "ready" and body["model"] == "test/hash-encoder"
    assert body["passages"] == len(searcher.index) > 300 and body["generation"] == searcher.index.generation


def test_readyz_says_no_index_until_the_first_ingest(health_server, tmp_path: Path, corpus_copy: Path):
    url, readiness = health_server
    encoder = HashEncoder()
    searcher = Searcher(tmp_path / "data", encoder)
    readiness.set_ready(searcher)
    status, body = get(url + "/readyz")
    assert status == 503 and body["status"] == "no index" and "ingest" in body["detail"]
    report = ingest([corpus_copy], tmp_path / "data", encoder)
    status, body = get(url + "/readyz")  # the probe never loads it ...
    assert status == 503 and report.generation in body["detail"] and "not loaded" in body["detail"]
    searcher.search("fines", top_k=1)  # ... the next question (or serve's index follower) does
    status, body = get(url + "/readyz")
    assert (status, body["status"], body["generation"]) == (200, "ready", report.generation)


def test_readyz_never_loads_or_reloads_a_generation(health_server, indexed, corpus_copy: Path, monkeypatch):
    import retrieval.index.passages as index_mod

    url, readiness = health_server
    encoder = HashEncoder()
    searcher = Searcher(indexed, encoder)
    first = searcher.index.generation
    readiness.set_ready(searcher)
    real_load = index_mod.PassageIndex.load.__func__
    loads = []

    def counting_load(cls, *a, **k):
        loads.append(1)
        return real_load(cls, *a, **k)

    monkeypatch.setattr(index_mod.PassageIndex, "load", classmethod(counting_load))
    (corpus_copy / "new.txt").write_text("New\n\nA paragraph about quokkas.\n")
    ingest([corpus_copy], indexed, encoder)
    loads.clear()
    for _ in range(3):
        status, body = get(url + "/readyz")
        assert status == 200 and body["generation"] == first
    assert loads == []


def test_unknown_paths_and_methods(health_server):
    url, _ = health_server
    assert get(url + "/healthz", method="POST")[0] == 405
    assert get(url + "/nope")[0] == 404


class GatedEncoder(HashEncoder):
    """A fake encoder whose first ``encode`` (the server's warm-up) waits until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    def encode(self, texts):
        self.started.set()
        assert self.release.wait(10), "the test never released the model"
        return super().encode(texts)


def test_serve_listens_before_the_model_loads(indexed):
    encoder = GatedEncoder()
    listening: list = []
    bound = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []

    def on_listening(server):
        listening.append(server)
        bound.set()

    with FakeSlack() as fake:
        settings = Settings(bot_token="xoxb-test-token", signing_secret="s3cret-signing", api_url=fake.api_url,
                            data_dir=indexed, http_host="127.0.0.1", http_port=0)

        def run():
            try:
                serve_forever(settings, Searcher(indexed, encoder), http=True, stop=stop, on_listening=on_listening)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            assert bound.wait(10), errors
            url = f"http://127.0.0.1:{listening[0].server_port}"
            assert encoder.started.wait(10)  # loading, and held there
            assert get(url + "/healthz") == (200, {"status": "ok"})
            assert get(url + "/readyz") == (503, {"status": "loading"})
            assert get(url + "/slack/events", method="GET")[0] == 405  # bolt's route is there too
            encoder.release.set()
            for _ in range(200):  # poll: readiness flips when the warm-up returns
                status, body = get(url + "/readyz")
                if status == 200:
                    break
                threading.Event().wait(0.05)
            assert status == 200 and body["model"] == "test/hash-encoder" and body["passages"] > 300
        finally:
            encoder.release.set()
            stop.set()
            thread.join(10)
    assert not thread.is_alive() and not errors


def test_socket_mode_with_a_refused_app_token_stops_with_one_sentence(indexed):
    from bot.config import SettingsError

    with FakeSlack() as fake:
        fake.fail_next("apps.connections.open", "invalid_auth")
        settings = Settings(bot_token="xoxb-test-token", app_token="xapp-1-refused-token", api_url=fake.api_url,
                            data_dir=indexed, http_host="127.0.0.1", http_port=0)
        with pytest.raises(SettingsError) as info:
            serve_forever(settings, Searcher(indexed, HashEncoder()), http=False, stop=threading.Event())
    assert "SLACK_APP_TOKEN" in str(info.value) and "invalid_auth" in str(info.value)
    assert "xapp-1-refused-token" not in str(info.value)


def test_readyz_with_an_empty_index_is_not_ready(health_server, tmp_path: Path):
    url, readiness = health_server
    (tmp_path / "empty").mkdir()
    ingest([tmp_path / "empty"], tmp_path / "data", HashEncoder(), allow_empty=True)
    searcher = Searcher(tmp_path / "data", HashEncoder())
    searcher.index
    readiness.set_ready(searcher)
    status, body = get(url + "/readyz")
    assert status == 503 and body["status"] == "no index" and "no passages" in body["detail"]


def test_unreachable_slack_at_start_stops_with_one_sentence(indexed):
    import socket

    from bot.config import SettingsError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    settings = Settings(bot_token="xoxb-test-token", signing_secret="s3cret", api_url=dead, data_dir=indexed,
                        http_host="127.0.0.1", http_port=0)
    with pytest.raises(SettingsError) as info:
        serve_forever(settings, Searcher(indexed, HashEncoder()), http=True, stop=threading.Event())
    assert "cannot reach Slack at " + dead in str(info.value) and "xoxb-test-token" not in str(info.value)


def test_serve_loads_a_fresh_ingest_without_a_question(tmp_path: Path, corpus_copy: Path, monkeypatch):
    import bot.server.serve as serve_mod

    monkeypatch.setattr(serve_mod, "FOLLOW_INDEX_SECONDS", 0.05)
    listening: list = []
    bound, stop = threading.Event(), threading.Event()
    with FakeSlack() as fake:
        settings = Settings(bot_token="xoxb-test-token", signing_secret="s3cret-signing", api_url=fake.api_url,
                            data_dir=tmp_path / "data", http_host="127.0.0.1", http_port=0)
        searcher = Searcher(tmp_path / "data", HashEncoder())
        thread = threading.Thread(target=serve_forever, args=(settings, searcher), daemon=True,
                                  kwargs={"http": True, "stop": stop,
                                          "on_listening": lambda s: (listening.append(s), bound.set())})
        thread.start()
        try:
            assert bound.wait(10)
            url = f"http://127.0.0.1:{listening[0].server_port}"
            for _ in range(100):
                status, body = get(url + "/readyz")
                if body != {"status": "loading"}:
                    break
                threading.Event().wait(0.05)
            assert status == 503 and body["status"] == "no index"
            report = ingest([corpus_copy], tmp_path / "data", HashEncoder())
            for _ in range(200):
                status, body = get(url + "/readyz")
                if status == 200:
                    break
                threading.Event().wait(0.05)
            assert status == 200 and body["generation"] == report.generation
        finally:
            stop.set()
            thread.join(10)


def test_housekeeping_purges_the_store_daily(monkeypatch):
    import bot.state.sqlite as store_mod
    from bot.server.serve import housekeeping

    monkeypatch.setattr(store_mod, "PURGE_EVERY_SECONDS", 0.1)
    purged = threading.Semaphore(0)

    class Store:
        def purge(self):
            purged.release()
            return 0

    class NoIndex:
        @property
        def index(self):
            from retrieval.errors import IndexNotFoundError

            raise IndexNotFoundError("nowhere")

    stop = threading.Event()
    thread = housekeeping(NoIndex(), Store(), stop, every=0.02)
    try:
        assert purged.acquire(timeout=5) and purged.acquire(timeout=5)  # again and again, one period apart
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
