"""Build a large index generation from the shipped corpus, for benchmarks.

Embedding 100k passages with the real model takes about an hour on 2 cores, so large indexes are
synthesised: the shipped corpus is ingested with the real model, then each synthetic passage copies
a real passage's text with its sentences shuffled and a bulletin number appended, and its vector is
the real vector plus Gaussian noise (sigma 0.02 per dimension), re-normalised. Flat FAISS search,
BM25 and SQLite costs depend on counts and lengths, not on the values, so the latency figures hold.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np

from retrieval.chunking import Citation, Passage, passage_id
from retrieval.index.generations import BulletinRecord, write_generation
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent


def base_index(work: Path, encoder) -> Path:
    """Ingest the shipped corpus into work/base (reused when it is already there)."""
    data = work / "base"
    ingest([ROOT / "corpus"], data, encoder)
    return data


def synthesise(base: Path, out: Path, n_passages: int, seed: int = 0) -> Path:
    """Write a generation of n_passages passages into data dir `out`, derived from the base index."""
    rng = np.random.default_rng(seed)
    shuffle = random.Random(seed)
    idx = PassageIndex.load(base)
    real = list(idx.iter_passages())
    vectors = idx.vectors(p.id for p in real)
    per_bulletin = 100
    passages, rows, bulletins = [], [], []
    for b_no in range((n_passages + per_bulletin - 1) // per_bulletin):
        name = f"synthetic-{b_no:05d}.txt"
        source, pieces = "", []
        for n in range(b_no * per_bulletin, min(n_passages, (b_no + 1) * per_bulletin)):
            src = n % len(real)
            sentences = real[src].text.split(". ")
            shuffle.shuffle(sentences)
            text = ". ".join(sentences) + f" (bulletin {b_no})"
            start = len(source)
            source += text + "\n\n"
            pieces.append((src, text, start))
        bulletins.append(BulletinRecord(name, name, f"fp{b_no}", f"Synthetic bulletin {b_no}", "bench", "2025-01",
                                        None, True, "2025-01-01T00:00:00+00:00", source))
        for item_no, (src, text, start) in enumerate(pieces, start=1):
            c = real[src].citation  # one passage per item, like most shipped items
            cit = Citation(f"Synthetic bulletin {b_no}", "bench", "2025-01", c.section, item_no, c.item_title,
                           1, None, name, start, start + len(text))
            passages.append(Passage(passage_id(name, start, start + len(text), text), text, cit, real[src].context))
            rows.append(src)
    vecs = vectors[rows] + rng.normal(0, 0.02, size=(n_passages, vectors.shape[1])).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    if out.exists():
        shutil.rmtree(out)
    write_generation(out, idx.model, idx.dimension, bulletins, passages, vecs.astype(np.float32))
    return out
