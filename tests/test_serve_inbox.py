"""``serve`` watches the inbox: a bulletin dropped there while serving is answered from without a restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.config import Settings
from bot.server.serve import serve_forever
from retrieval.search.searcher import Searcher
from tests.slack_fake import FakeSlack

BULLETIN = ("# Quokka Gazette\n\n## Enforcement\n\n1. Zebra quokka fine\n\n"
            "The regulator fined the zebra quokka sanctuary 12,345 yuan for tracking visitors.\n")


def _bulletins_answering(searcher: Searcher, query: str) -> set[str]:
    return {h.citation.bulletin for h in searcher.search(query, top_k=5).hits}


def test_serve_ingests_a_file_dropped_into_the_inbox_and_answers_from_it(indexed: Path, encoder, tmp_path: Path):
    inbox = tmp_path / "drop"
    stop = threading.Event()
    bound = threading.Event()
    errors: list[BaseException] = []
    searcher = Searcher(indexed, encoder)
    with FakeSlack() as fake:
        settings = Settings(bot_token="xoxb-test-token", signing_secret="s3cret-signing", api_url=fake.api_url,
                            data_dir=indexed, http_host="127.0.0.1", http_port=0, inbox_dir=inbox)

        def run():
            try:
                serve_forever(settings, searcher, http=True, stop=stop, on_listening=lambda s: bound.set(),
                              inbox_interval=0.05)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            assert bound.wait(10), errors
            before = searcher.index.generation
            for _ in range(200):  # the watcher creates the folder once loaded
                if inbox.is_dir():
                    break
                time.sleep(0.05)
            assert "Quokka Gazette" not in _bulletins_answering(searcher, "zebra quokka sanctuary fine")
            (inbox / "quokka.md").write_text(BULLETIN)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and searcher.index.generation == before:
                time.sleep(0.05)
            assert searcher.index.generation != before, errors
            assert "Quokka Gazette" in _bulletins_answering(searcher, "zebra quokka sanctuary fine")
        finally:
            stop.set()
            thread.join(10)
    assert not thread.is_alive() and not errors
    time.sleep(0.2)  # one interval and then some: the watcher saw its stop event
    assert not [t for t in threading.enumerate() if t.name == "inbox"]
