"""Warm query latency at 1k, 10k and 100k passages: hybrid beside dense-only; peak RSS.

    .venv/bin/python benchmarks/bench_query.py [--sizes 1000 10000 100000] [--rounds 2]

For each size, a synthetic index generation is built from the shipped corpus (see synthetic.py),
loaded by a Searcher in this process (as the server does), warmed up with 5 queries, then every
dev question is searched ``--rounds`` times with the query-vector cache cleared before each search
(so each figure includes encoding the question), then again with the vectors cached (work_p50/p95:
the project's own search work alone). Prints p50/p95 in ms, load time and peak RSS.
Figures go to stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import base_index, synthesise  # noqa: E402
from retrieval.encoders.factory import SentenceTransformerEncoder  # noqa: E402
from retrieval.search.searcher import Searcher  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev_questions.jsonl"
FALLBACK = ["what fine did the school in Nantong get", "how big were the DMA fines on apple and meta",
            "who do PIMS providers apply to for recognition in germany?", "linkedin irish dpc fine?"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(searcher: Searcher, questions: list[str], rounds: int) -> dict:
    for q in questions[:5]:
        searcher.search(q, top_k=3)
    times = []
    for _ in range(rounds):
        for q in questions:
            searcher._cache.clear()
            t = time.perf_counter()
            searcher.search(q, top_k=3)
            times.append((time.perf_counter() - t) * 1000)
    work = []  # the project's own search work: the same questions with their vectors cached
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            searcher.search(q, top_k=3)
            work.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 1), "p95_ms": round(float(np.percentile(times, 95)), 1),
            "n": len(times), "work_p50": round(float(np.percentile(work, 50)), 2),
            "work_p95": round(float(np.percentile(work, 95)), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bulletin-bot-bench")
    ap.add_argument("--omp-threads", type=int, default=1, help="faiss OpenMP threads (1 for single-query serving)")
    args = ap.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.omp_threads)
    questions = [json.loads(line)["question"] for line in QUESTIONS.open()] if QUESTIONS.exists() else FALLBACK
    encoder = SentenceTransformerEncoder()
    base = base_index(args.work, encoder)
    print(f"{'passages':>9} {'mode':>7} {'load_s':>7} {'p50_ms':>7} {'p95_ms':>7} {'work_p50':>9} {'work_p95':>9} "
          f"{'queries':>8} {'peak_rss_mb':>11}")
    for size in args.sizes:
        data = synthesise(base, args.work / f"n{size}", size)
        for mode, weight in (("hybrid", 0.3), ("dense", 0.0)):
            searcher = Searcher(data, encoder, lexical_weight=weight)
            t = time.perf_counter()
            searcher.index  # noqa: B018  (load the generation, build BM25)
            searcher.search("warm up", top_k=1)
            load_s = time.perf_counter() - t
            r = measure(searcher, questions, args.rounds)
            print(f"{size:>9} {mode:>7} {load_s:>7.2f} {r['p50_ms']:>7} {r['p95_ms']:>7} {r['work_p50']:>9} "
                  f"{r['work_p95']:>9} {r['n']:>8} {peak_rss_mb():>11.0f}", flush=True)


if __name__ == "__main__":
    main()
