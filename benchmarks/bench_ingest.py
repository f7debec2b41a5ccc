"""Ingest throughput beside raw model.encode, peak RSS, and cold `bulletin-bot ask` wall time.

    .venv/bin/python benchmarks/bench_ingest.py [--repeat 3]

1. Raw ``SentenceTransformer.encode`` on the shipped corpus's passage texts (with context), batch 64.
2. ``ingest`` of the shipped corpus into an empty data directory (parse, chunk, embed, write).
3. Re-ingest of the unchanged corpus (nothing embedded).
4. Cold ``bulletin-bot ask`` in a fresh process (import, model load, index load, one query).
Figures go to stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.chunking import passages_from  # noqa: E402
from retrieval.encoders.factory import SentenceTransformerEncoder  # noqa: E402
from retrieval.ingest import ingest  # noqa: E402
from retrieval.intake.sources import find_bulletin_files, read_bulletin  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bulletin-bench-"))
    encoder = SentenceTransformerEncoder()
    files, _ = find_bulletin_files([ROOT / "corpus"])
    passages = [p for f in files for p in passages_from(read_bulletin(f), count_tokens=encoder.count_tokens)]
    texts = [p.embedding_text for p in passages]
    encoder.encode(texts[:8])  # load the model outside the timings

    raw, full, again = [], [], []
    for i in range(args.repeat):
        t = time.perf_counter()
        encoder.encode(texts)
        raw.append(time.perf_counter() - t)
        data = work / f"data{i}"
        t = time.perf_counter()
        report = ingest([ROOT / "corpus"], data, encoder)
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        ingest([ROOT / "corpus"], data, encoder)
        again.append(time.perf_counter() - t)
    n = len(texts)
    print(f"passages: {n} (ingest reported {report.passages})")
    print(f"raw model.encode:        {n / np.median(raw):7.1f} passages/s  (median of {args.repeat}: {np.median(raw):.2f} s)")
    print(f"ingest, empty index:     {n / np.median(full):7.1f} passages/s  (median of {args.repeat}: {np.median(full):.2f} s)")
    print(f"re-ingest, unchanged:    {np.median(again) * 1000:7.1f} ms")
    print(f"peak RSS (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MB")

    cold = []
    cli = Path(sys.executable).parent / "bulletin-bot"
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([str(cli), "ask", "what fine did the school in Nantong get", "--json", "--data-dir",
                        str(work / "data0")], check=True, capture_output=True)
        cold.append(time.perf_counter() - t)
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"cold `bulletin-bot ask`: {np.median(cold):7.2f} s wall (median of {args.repeat}); peak RSS {child:.0f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
