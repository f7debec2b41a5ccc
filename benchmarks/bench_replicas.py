"""Answer latency with 1 and 2 ``serve --http`` replicas on one PostgreSQL, 20 questions at once.

    .venv/bin/python benchmarks/bench_replicas.py [--questions 200] [--concurrency 20]

A throwaway PostgreSQL cluster (.ci/postgres.sh), the shipped corpus ingested with the real model,
and a fake Slack Web API on 127.0.0.1; each replica is a real ``bulletin-bot serve --http`` process
(waitress) with the real model. Signed ``app_mention`` events are sent ``--concurrency`` at a time,
spread round-robin over the replicas (as a load balancer would); latency = event sent → the fake
Slack receives that thread's ``chat.postMessage``. Prints p50/p95 latency and throughput per replica
count. Both replicas share this machine's 2 cores, so the figure shows the overhead of a shared state,
not added capacity. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.encoders.factory import make_encoder  # noqa: E402
from retrieval.ingest import ingest  # noqa: E402
from tests.replicas import REAL_LAUNCHER, Replica, replica_env  # noqa: E402
from tests.slack_client import mention  # noqa: E402
from tests.slack_fake import FakeSlack  # noqa: E402

QUESTIONS = ["what fine did the school in Nantong get", "how big were the DMA fines on apple and meta",
             "who do PIMS providers apply to for recognition in germany?", "comment deadline for NIST SP 800-172 rev 3?",
             "linkedin irish dpc fine?", "how many DPAs are in the 2024 coordinated action on right of access?"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    args = ap.parse_args()
    start = subprocess.run([str(ROOT / ".ci" / "postgres.sh"), "start"], capture_output=True, text=True, check=True)
    env_lines = dict(line.removeprefix("export ").split("=", 1) for line in start.stdout.split("\n") if "=" in line)
    pg_url, pg_dir = env_lines["BULLETIN_BOT_TEST_DATABASE_URL"].strip("'\""), env_lines["PG_TEST_DIR"].strip("'\"")
    try:
        with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
            data = Path(tmp) / "data"
            ingest([ROOT / "corpus"], data, make_encoder(None))
            print(f"{'replicas':>8} {'questions':>9} {'p50_ms':>8} {'p95_ms':>8} {'q_per_s':>8}")
            for n in (1, 2):
                env = replica_env(fake, data, pg_url, LOG_LEVEL="WARNING")
                replicas = [Replica(f"r{n}{i}", env, Path(tmp) / f"r{n}{i}", launcher=REAL_LAUNCHER) for i in range(n)]
                try:
                    for r in replicas:
                        r.wait_ready(timeout=120)
                    lat = run(fake, replicas, args.questions, args.concurrency, base=n * 100000)
                finally:
                    for r in replicas:
                        r.stop()
                print(f"{n:>8} {len(lat['ms']):>9} {np.percentile(lat['ms'], 50):8.1f} {np.percentile(lat['ms'], 95):8.1f} "
                      f"{lat['qps']:8.1f}", flush=True)
    finally:
        subprocess.run([str(ROOT / ".ci" / "postgres.sh"), "stop", pg_dir], capture_output=True)


def run(fake: FakeSlack, replicas: list, total: int, concurrency: int, base: int) -> dict:
    def one(i: int) -> float:
        ts = f"{base + i}.1"
        t = time.perf_counter()
        replicas[i % len(replicas)].send_event(mention(QUESTIONS[i % len(QUESTIONS)] + f" #{i}", ts=ts), f"Ev{base + i}")
        fake.wait_for("chat.postMessage", timeout=120, where=lambda c: c.body.get("thread_ts") == ts)
        return (time.perf_counter() - t) * 1000

    for i in range(5):  # warm up each replica's model
        one(-(i + 1) - 1000)
    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        ms = list(pool.map(one, range(total)))
    return {"ms": ms, "qps": total / (time.perf_counter() - t)}


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
