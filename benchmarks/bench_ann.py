"""Exact vs approximate FAISS search at up to 1M passages: latency, recall@10, build time, memory.

    .venv/bin/python benchmarks/bench_ann.py [--sizes 100000 1000000] [--queries 200] [--hnsw-max 200000]

Vectors: the shipped corpus' passages embedded once with all-MiniLM-L6-v2 (benchmarks/synthetic.py's
base index), then copied with Gaussian noise (sigma 0.05 per dimension, re-normalised) up to the
size — the same near-duplicate-heavy shape as synthetic.py's generations. Queries: the dev questions
(and noisy copies of them up to --queries). For each size: exact search (IndexFlatIP, the index the
project serves today), IVF (IndexIVFFlat, nlist = 4·√n, trained on a 64k sample) at several nprobe,
and HNSW (IndexHNSWFlat, M = 32, efSearch 64/128) up to --hnsw-max vectors (its build is slow on
2 cores). Prints p50/p95 single-query latency (1 OpenMP thread, as served), recall@10 against exact
search, build seconds and bytes per passage. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402

from benchmarks.synthetic import base_index  # noqa: E402
from retrieval.encoders.factory import SentenceTransformerEncoder  # noqa: E402
from retrieval.index.passages import PassageIndex  # noqa: E402

QUESTIONS = [ROOT.parent / "shared" / "eval" / f for f in ("dev_questions.jsonl", "dev2_questions.jsonl")]


def noisy(base: np.ndarray, n: int, rng: np.random.Generator, sigma: float = 0.05) -> np.ndarray:
    """n rows: base rows cycled, plus Gaussian noise, L2-normalised (float32, shape (n, d))."""
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 65536):
        rows = base[np.arange(start, min(n, start + 65536)) % len(base)]
        chunk = rows + rng.normal(0, sigma, rows.shape).astype(np.float32)
        out[start:start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def timed_search(index, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, list[float]]:
    ids, lat = [], []
    for q in queries:
        t = time.perf_counter()
        _, i = index.search(q[None, :], k)
        lat.append((time.perf_counter() - t) * 1000)
        ids.append(i[0])
    return np.array(ids), lat


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100000, 1000000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--hnsw-max", type=int, default=200000)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(7)
    encoder = SentenceTransformerEncoder()
    base_dir = base_index(Path(tempfile.gettempdir()) / "bulletin-bot-bench", encoder)
    idx = PassageIndex.load(base_dir)
    base = idx.vectors([r[0] for r in idx.catalog()])
    qs = [json.loads(line)["question"] for f in QUESTIONS if f.exists() for line in f.open(encoding="utf-8")]
    queries = encoder.encode(qs or ["fine"])
    if len(queries) < args.queries:
        queries = np.vstack([queries, noisy(queries, args.queries - len(queries), rng)])
    print(f"{'passages':>9} {'index':>22} {'build_s':>8} {'p50_ms':>7} {'p95_ms':>7} {'recall@10':>9} {'bytes/passage':>13}")
    for n in args.sizes:
        xb = noisy(base, n, rng)
        flat = faiss.IndexFlatIP(xb.shape[1])
        t = time.perf_counter()
        flat.add(xb)
        build = time.perf_counter() - t
        truth, lat = timed_search(flat, queries)
        print(f"{n:>9} {'exact (FlatIP)':>22} {build:8.1f} {np.percentile(lat, 50):7.2f} {np.percentile(lat, 95):7.2f} "
              f"{1.0:9.3f} {xb.shape[1] * 4:13d}", flush=True)
        nlist = int(4 * np.sqrt(n))
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(xb.shape[1]), xb.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        t = time.perf_counter()
        faiss.omp_set_num_threads(2)  # building may use both cores; searching uses one
        ivf.train(xb[rng.choice(n, min(n, 64 * 1024), replace=False)])
        ivf.add(xb)
        faiss.omp_set_num_threads(1)
        build = time.perf_counter() - t
        for nprobe in (8, 16, 32, 64):
            ivf.nprobe = nprobe
            found, lat = timed_search(ivf, queries)
            print(f"{n:>9} {f'IVF{nlist},Flat np={nprobe}':>22} {build:8.1f} {np.percentile(lat, 50):7.2f} "
                  f"{np.percentile(lat, 95):7.2f} {recall(found, truth):9.3f} {xb.shape[1] * 4 + 8:13d}", flush=True)
        if n <= args.hnsw_max:
            hnsw = faiss.IndexHNSWFlat(xb.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
            faiss.omp_set_num_threads(2)
            t = time.perf_counter()
            hnsw.add(xb)
            build = time.perf_counter() - t
            faiss.omp_set_num_threads(1)
            for ef in (64, 128):
                hnsw.hnsw.efSearch = ef
                found, lat = timed_search(hnsw, queries)
                print(f"{n:>9} {f'HNSW32 ef={ef}':>22} {build:8.1f} {np.percentile(lat, 50):7.2f} "
                      f"{np.percentile(lat, 95):7.2f} {recall(found, truth):9.3f} {xb.shape[1] * 4 + 32 * 2 * 4:13d}",
                      flush=True)
        del xb, flat


if __name__ == "__main__":
    main()
