"""Encoder backends side by side: torch, onnx (fp32) and onnx-int8, on this machine, in one run.

    .venv/bin/python benchmarks/bench_encoder.py [--rounds 3]

For each backend: passages embedded per second (the shipped corpus' passages, with their headings, as
ingest embeds them), warm question-encode latency p50/p95 over the dev questions (one at a time),
the cosine of its vectors to torch's (min and mean), and the wall time of a cold
``bulletin-bot ask`` in a new process (import, model load, one answer; --rounds runs, median), with
whether that process imported torch. The ONNX export is made once into a temporary directory first
(its time is printed too). Figures go to stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.encoders.factory import make_encoder, resolve_model  # noqa: E402
from retrieval.encoders.onnx import export_onnx  # noqa: E402
from retrieval.index.passages import PassageIndex  # noqa: E402
from retrieval.ingest import ingest  # noqa: E402

QUESTIONS = [ROOT.parent / "shared" / "eval" / f for f in ("dev_questions.jsonl", "dev2_questions.jsonl")]
BACKENDS = ("torch", "onnx", "onnx-int8")
COLD = ("import sys, time; t = time.perf_counter(); from bot.cli import main; "
        "sys.argv = ['bulletin-bot', 'ask', 'how big were the DMA fines on apple and meta', '--data-dir', sys.argv[1], "
        "'--json']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('TORCH', 'torch' in sys.modules, file=sys.stderr)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for f in QUESTIONS if f.exists() for line in f.open(encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        name, location = resolve_model(None)
        t = time.perf_counter()
        export_onnx(location, Path(tmp) / "onnx", name)
        print(f"ONNX export (fp32 + int8): {time.perf_counter() - t:.1f} s")
        reference = None
        print(f"{'backend':>10} {'passages/s':>11} {'q_p50_ms':>9} {'q_p95_ms':>9} {'cos_min':>8} {'cos_mean':>9} "
              f"{'cold_ask_s':>11} {'torch_imported':>15}")
        for backend in BACKENDS:
            data = Path(tmp) / f"data-{backend}"
            data.mkdir()
            os.symlink(Path(tmp) / "onnx", data / "onnx")
            encoder = make_encoder(None, backend=backend, export_dir=data / "onnx")
            ingest([ROOT / "corpus"], data, encoder)
            rows = PassageIndex.load(data).catalog()
            texts = [f"{r[7]}\n{r[8]}" for r in rows]
            encoder.encode(texts[:8])
            t = time.perf_counter()
            vectors = encoder.encode(texts)
            rate = len(texts) / (time.perf_counter() - t)
            reference = vectors if reference is None else reference
            cos = (vectors * reference).sum(axis=1)
            for q in questions[:5]:
                encoder.encode([q])
            lat = []
            for q in questions:
                t = time.perf_counter()
                encoder.encode([q])
                lat.append((time.perf_counter() - t) * 1000)
            colds, imported = [], None
            env = {**os.environ, "BULLETIN_BOT_ENCODER": backend}
            for _ in range(args.rounds):
                t = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", COLD, str(data)], cwd=ROOT, env=env, capture_output=True,
                                      text=True, timeout=300)
                colds.append(time.perf_counter() - t)
                imported = "TORCH True" in done.stderr
            print(f"{backend:>10} {rate:11.1f} {np.percentile(lat, 50):9.2f} {np.percentile(lat, 95):9.2f} "
                  f"{cos.min():8.4f} {cos.mean():9.4f} {statistics.median(colds):11.2f} {str(imported):>15}")


if __name__ == "__main__":
    main()
