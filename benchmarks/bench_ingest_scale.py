"""Ingest throughput at scale: passages/s at 10k and 100k passages, embedding and everything else apart.

    .venv/bin/python benchmarks/bench_ingest_scale.py [--sizes 10000 100000] [--full-upto 10000] [--sample 2000]

For each size, synthetic bulletin files are written (one section, 100 items a file, each item one paragraph: a
shipped paragraph with its sentences shuffled and the bulletin and item numbers appended, so no two passages
are equal; a metadata sidecar each), then:

1. **pipeline**: ``ingest`` into an empty data directory with an encoder that returns vectors instantly but
   counts word pieces with the real tokenizer: everything an ingest does but the model (reading, parsing,
   chunking, checksums, FAISS, SQLite, BM25, the case profile, instruments);
2. **embedding**: the default encoder (ONNX fp32, as ``ingest`` runs it: sorted by length, batch threads) on a
   sample of those passages' embedding texts;
3. **end to end** up to ``--full-upto`` passages: ``bulletin-bot ingest DIR`` as a new process (default
   encoder), wall to wall. Above it the end-to-end rate is projected from 1 and 2 (1 / (1/pipeline + 1/embedding)),
   and printed as projected: embedding 100k passages takes about an hour on 2 cores.

Prints figures and the machine's load; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.encoders.factory import make_encoder  # noqa: E402
from retrieval.index.passages import PassageIndex  # noqa: E402
from retrieval.ingest import ingest  # noqa: E402

PER_FILE = 100


def write_corpus(out: Path, n_passages: int, seed: int = 0) -> None:
    """n_passages one-paragraph items in files of PER_FILE, from the shipped corpus's paragraphs."""
    paragraphs = []
    for f in sorted((ROOT / "corpus").glob("*.txt")):
        for block in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")):
            text = " ".join(block.split())
            if len(text) > 80 and not text.startswith("#"):
                paragraphs.append(text.lstrip("-* "))
    rng = random.Random(seed)
    out.mkdir(parents=True)
    for b in range((n_passages + PER_FILE - 1) // PER_FILE):
        lines = [f"# Synthetic developments {b}", ""]
        for i in range(b * PER_FILE, min(n_passages, (b + 1) * PER_FILE)):
            sentences = paragraphs[i % len(paragraphs)].split(". ")
            rng.shuffle(sentences)
            lines += [f"- **Item {i} of bulletin {b}**: " + ". ".join(sentences) + f" (bulletin {b}, item {i})", ""]
        (out / f"synthetic-{b:05d}.txt").write_text("\n".join(lines), encoding="utf-8")
        (out / f"synthetic-{b:05d}.meta.toml").write_text(
            f'title = "Synthetic bulletin {b}"\npublisher = "bench"\ndate = "2025-01"\n', encoding="utf-8")


class InstantEncoder:
    """Vectors at once (a hash of the text seeds them), word pieces counted by the real tokenizer."""

    def __init__(self, real) -> None:
        self.name, self.dimension, self.count_tokens = real.name, real.dimension, real.count_tokens

    def encode(self, texts) -> np.ndarray:
        v = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dimension)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--full-upto", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=2000)
    args = ap.parse_args()
    real = make_encoder(None)
    real.encode(["warm up"])
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-scale-"))
    print(f"# bench_ingest_scale: {os.cpu_count()} cores, load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| passages | pipeline without the model (passages/s) | embedding, onnx (passages/s) | end to end (passages/s) |")
    print("| ---: | ---: | ---: | ---: |")
    try:
        for n in args.sizes:
            corpus, data = work / f"corpus{n}", work / f"data{n}"
            write_corpus(corpus, n)
            t = time.perf_counter()
            report = ingest([corpus], data, InstantEncoder(real))
            pipeline = report.passages / (time.perf_counter() - t)
            index = PassageIndex.load(data)
            texts = [p.embedding_text for p in index.iter_passages()]
            index.close()
            sample = random.Random(1).sample(texts, min(args.sample, len(texts)))
            t = time.perf_counter()
            real.encode(sorted(sample, key=len))
            embedding = len(sample) / (time.perf_counter() - t)
            if n <= args.full_upto:
                shutil.rmtree(data)
                cli = Path(sys.executable).parent / "bulletin-bot"
                t = time.perf_counter()
                done = subprocess.run([str(cli), "ingest", str(corpus), "--json", "--data-dir", str(data)],
                                      capture_output=True, text=True, check=True)
                end = json.loads(done.stdout)["passages"] / (time.perf_counter() - t)
                whole = f"{end:.1f} (measured)"
            else:
                whole = f"{1 / (1 / pipeline + 1 / embedding):.1f} (projected)"
            print(f"| {report.passages:,} | {pipeline:.0f} | {embedding:.1f} | {whole} |", flush=True)
            shutil.rmtree(corpus)
            shutil.rmtree(data, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"(load after: {' '.join(f'{x:.1f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
