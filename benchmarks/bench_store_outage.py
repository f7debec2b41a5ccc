"""A PostgreSQL outage under the running bot: questions answered, votes kept, time to recover.

The real bot (bolt App over HTTP, fake Slack, fake encoder over the shipped corpus) keeps its state in
the real throwaway PostgreSQL of ``.ci/postgres.sh`` through :class:`bot.state.resilient.ResilientStore`
(its production settings). The server is stopped (``pg_ctl stop -m fast``), questions are asked and
votes cast (some users clicking 👍 three times), the server is started again, and the database is
counted: votes stored / distinct votes cast, answers stored / answers posted.

    eval "$(.ci/postgres.sh start)"
    .venv/bin/python benchmarks/bench_store_outage.py [--questions 20] [--voters 10]
    .ci/postgres.sh stop "$PG_TEST_DIR"

Needs BULLETIN_BOT_TEST_DATABASE_URL and PG_TEST_DIR (it empties that database). Prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=20, help="questions asked during the outage (default 20)")
    parser.add_argument("--voters", type=int, default=10, help="users voting on each answer (default 10)")
    args = parser.parse_args()
    import logging

    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)  # its reconnection warnings, once per attempt
    from bot.slack import blocks as bk
    from bot.state.postgres import PgStore
    from bot.state.resilient import ResilientStore
    from retrieval.ingest import ingest
    from retrieval.search import Searcher
    from tests import pg
    from tests.conftest import CORPUS
    from tests.fakes import HashEncoder
    from tests.slack_client import BotUnderTest, buttons, mention
    from tests.slack_fake import RESPONSE_URL, FakeSlack
    from tests.test_uploads import Answering

    if not (pg.TEST_DATABASE_URL and pg.TEST_CLUSTER_DIR):
        raise SystemExit("set BULLETIN_BOT_TEST_DATABASE_URL and PG_TEST_DIR: eval \"$(.ci/postgres.sh start)\"")
    pg.reset(pg.TEST_DATABASE_URL)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        ingest([CORPUS], data, HashEncoder())
        searcher = Searcher(data, HashEncoder())
        questions = [f"what does the bulletin say about {p.citation.item_title or p.text[:40]}".lower()
                     for p in list(searcher.index.iter_passages())[: args.questions + 1]]
        store = ResilientStore(PgStore(pg.TEST_DATABASE_URL))
        votes: set[tuple[str, str]] = set()
        clicks = posted = failed = 0
        latencies = []
        with FakeSlack() as fake, BotUnderTest(fake, Answering(searcher), Path(tmp), store=store) as bot:
            def ask(q: str, ts: str):
                fake.clear()
                start = time.perf_counter()
                bot.send_event(mention(q, ts=ts))
                call = fake.wait_for("chat.postMessage", timeout=60)[0]
                latencies.append(time.perf_counter() - start)
                return call

            def vote(answer, user: str, times: int = 1) -> None:
                nonlocal clicks
                for _ in range(times):
                    fake.clear()
                    up = buttons(answer)[bk.ACTION_UP]
                    bot.click(up, user=user, message={"ts": "1.0"}, response_url=fake.response_url("v"))
                    fake.wait_for(RESPONSE_URL, timeout=30)
                    clicks += 1
                votes.add((up["value"], user))

            before = ask(questions[0], "800.0")
            pg.stop_server()
            stopped = time.perf_counter()
            answers = []
            for i, q in enumerate(questions[1:], start=1):
                call = ask(q, f"800.{i}")
                if "Sorry" in call.body.get("text", ""):
                    failed += 1
                else:
                    posted += 1
                answers.append(call)
            for answer in [before, *answers]:
                for u in range(args.voters):
                    vote(answer, f"U{u:03d}", times=3 if u % 3 == 0 else 1)
            bot.wait_idle(60)
            outage = time.perf_counter() - stopped
            waiting = store.health()["waiting"]
            pg.start_server()
            started = time.perf_counter()
            while not store.available:
                time.sleep(0.02)
            recovered = time.perf_counter() - started
            first_after = time.perf_counter()
            ask("what fine did the regulator impose", "801.0")
            first_after = time.perf_counter() - first_after
        check = PgStore(pg.TEST_DATABASE_URL)
        try:
            stored_votes = len(check.feedback())
            stored_answers = check._execute("SELECT count(*) FROM answers")[0][0][0]
        finally:
            check.close()
        store.close()
    during = latencies[1:-1]
    print(f"outage of {outage:.1f} s: {len(questions) - 1} questions asked, {posted} answered, {failed} 'Sorry'")
    print(f"answer latency during the outage: first {during[0] * 1000:.0f} ms (the call that finds the store "
          f"down), then p50 {statistics.median(during[1:]) * 1000:.0f} ms")
    print(f"{clicks} clicks = {len(votes)} distinct votes (one per user per answer) waiting in memory: {waiting}")
    print(f"store back {recovered:.2f} s after the server started; the next question answered in "
          f"{first_after * 1000:.0f} ms and stored")
    print(f"in PostgreSQL afterwards: {stored_votes} / {len(votes)} votes, {stored_answers} / {len(questions) + 1} answers")


if __name__ == "__main__":
    main()
