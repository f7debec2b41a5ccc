"""Slack latency: event received → chat.postMessage sent, against the fake Slack Web API.

The real bot (bolt App behind its threading WSGI server, answer worker pool, SQLite store) runs on
127.0.0.1 and receives signed ``app_mention`` events over HTTP; the fake Slack records when each
``chat.postMessage`` arrives. Per question: latency = arrival of its chat.postMessage − the moment
the event was sent; ack = the HTTP response time of the event itself. Warm: the index and the model
are loaded and a warm-up round has run before measuring. Distinct questions throughout (the searcher
caches the vectors of repeated questions).

    .venv/bin/python benchmarks/bench_slack.py                    # fake encoder (measures the bot)
    .venv/bin/python benchmarks/bench_slack.py --real-model       # all-MiniLM-L6-v2 (measures the bot + model)

Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of values (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def questions_from_index(searcher, n: int) -> list[str]:
    """n distinct questions built from the indexed items' titles and opening words."""
    seen: dict[str, None] = {}
    templates = ["what does the bulletin say about {}", "{}?", "tell me about {}", "is there news on {}"]
    for template in templates:
        for passage in searcher.index.iter_passages():
            words = (passage.citation.item_title or passage.text).replace("*", " ").split()[:9]
            if len(words) >= 3:
                seen.setdefault(template.format(" ".join(words).lower()), None)
            if len(seen) >= n:
                return list(seen)
    raise SystemExit(f"the index yields only {len(seen)} distinct questions, {n} wanted")


def run(bot, fake, questions: list[str], concurrency: int, tag: str) -> dict:
    """Send each question as an app_mention; returns latencies (ms) and the wall time (s)."""
    from tests.slack_client import mention

    def one(i_q: tuple[int, str]) -> tuple[float, float]:
        i, q = i_q
        ts = f"{tag}.{i:06d}"
        start = time.perf_counter()
        status, _ = bot.send_event(mention(q, ts=ts))
        acked = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"event {ts} answered HTTP {status}")
        call = fake.wait_for("chat.postMessage", timeout=60, where=lambda c: c.body.get("thread_ts") == ts)[0]
        return (call.at - start) * 1000, (acked - start) * 1000

    wall = time.perf_counter()
    if concurrency == 1:
        results = [one(x) for x in enumerate(questions)]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(one, enumerate(questions)))
    wall = time.perf_counter() - wall
    return {"latency": [r[0] for r in results], "ack": [r[1] for r in results], "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=200, help="questions per run (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="questions in flight in the concurrent run")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up questions, not measured")
    parser.add_argument("--workers", type=int, default=4, help="answer worker threads (BULLETIN_BOT_WORKERS)")
    parser.add_argument("--real-model", action="store_true", help="use all-MiniLM-L6-v2 instead of the fake encoder")
    parser.add_argument("--data-dir", type=Path, help="an index built with the same encoder (default: ingest corpus/)")
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    from bot.server.serve import load_searcher
    from retrieval.ingest import ingest
    from tests.slack_client import BotUnderTest
    from tests.slack_fake import FakeSlack

    if args.real_model:
        from retrieval.encoders.factory import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(None)
    else:
        from tests.fakes import HashEncoder

        encoder = HashEncoder()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(tmp) / "data"
            report = ingest([ROOT / "corpus"], data_dir, encoder)
            print(f"ingested corpus/: {report.passages} passages", file=sys.stderr)
        searcher = load_searcher(data_dir, encoder)
        qs = questions_from_index(searcher, args.warmup + 2 * args.questions)
        warm, seq_qs, conc_qs = qs[: args.warmup], qs[args.warmup: args.warmup + args.questions], qs[-args.questions:]
        with FakeSlack() as fake, BotUnderTest(fake, searcher, Path(tmp), workers=args.workers) as bot:
            run(bot, fake, warm, 1, "100")
            sequential = run(bot, fake, seq_qs, 1, "200")
            concurrent = run(bot, fake, conc_qs, args.concurrency, "300")

    print(f"command: .venv/bin/python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    print(f"encoder: {encoder.name}; answer workers: {args.workers}; cpus: {os.cpu_count()}; "
          f"{args.questions} distinct questions per run after {args.warmup} warm-up questions")
    print("event sent → chat.postMessage received by the fake (ms); ack = HTTP response to the event (ms)")
    print(f"{'run':16}{'p50':>9}{'p95':>9}{'max':>9}{'mean':>9}{'ack p50':>9}{'ack p95':>9}{'q/s':>9}")
    for name, r in (("one at a time", sequential), (f"{args.concurrency} at once", concurrent)):
        lat, ack = r["latency"], r["ack"]
        print(f"{name:16}{percentile(lat, 50):9.1f}{percentile(lat, 95):9.1f}{max(lat):9.1f}"
              f"{statistics.mean(lat):9.1f}{percentile(ack, 50):9.1f}{percentile(ack, 95):9.1f}"
              f"{len(lat) / r['wall']:9.1f}")


if __name__ == "__main__":
    main()
