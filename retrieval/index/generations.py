"""Index generations on disk: their files and manifest, writing one, and the ``CURRENT`` switch.

The passage index (FAISS vectors and an SQLite passage store under the same int64 ids, read by
:class:`retrieval.index.passages.PassageIndex`) lives in immutable generations.

On disk, a data directory holds immutable *index generations* and a pointer to the one in force::

    DATA_DIR/
      CURRENT                      name of the generation in force (switched with os.replace)
      generations/<name>/
        index.faiss                faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), ids = passage ids
        passages.sqlite            bulletins and passages (text, citation, context) by the same ids
        manifest.json              model, dimension, counts, id checksum, corpus fingerprint, versions

A build writes a whole new generation, then switches ``CURRENT``: a crash mid-build leaves the
previous generation in force, and a reader never sees a half-written one. :meth:`~retrieval.index.passages.PassageIndex.load`
checks the generation against its manifest (counts, ids, dimension, model) and raises
:class:`~retrieval.errors.IndexMismatchError` rather than serve a torn index.

"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Iterable, Iterator

import faiss
import numpy as np

from retrieval.chunking import Passage
from retrieval.errors import IndexMismatchError

log = logging.getLogger(__name__)

#: 2: passages gained ``page`` (the PDF page of char_start; NULL for unpaged text), read as NULL from format 1.
FORMAT_VERSION = 2
CURRENT_FILE = "CURRENT"
GENERATIONS_DIR = "generations"
#: Older generations kept beside the current one (a server may still be reading them).
KEEP_OLD_GENERATIONS = 2

_GENERATION_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,100}$")
#: Manifest keys and their types, checked before anything else is read.
MANIFEST_TYPES = {"generation": str, "model": str, "dimension": int, "passage_count": int, "ids_sha256": str, "files": dict}

_SCHEMA = """
CREATE TABLE bulletins (
    source_file TEXT PRIMARY KEY, path TEXT NOT NULL, fingerprint TEXT NOT NULL,
    title TEXT NOT NULL, publisher TEXT, date TEXT, url TEXT, has_metadata INTEGER NOT NULL,
    ingested_at TEXT NOT NULL, source_text TEXT NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, source_file TEXT NOT NULL REFERENCES bulletins(source_file),
    text TEXT NOT NULL, context TEXT NOT NULL, part INTEGER NOT NULL, parts INTEGER NOT NULL,
    section TEXT, item_number INTEGER, item_title TEXT, paragraph INTEGER NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, page INTEGER
);
CREATE INDEX passages_by_file ON passages(source_file, char_start);
"""


@dataclass(frozen=True)
class BulletinRecord:
    """One indexed bulletin: metadata, content fingerprint (sha256 hex) and when it was ingested (UTC ISO)."""

    source_file: str
    path: str
    fingerprint: str
    title: str
    publisher: str | None
    date: str | None
    url: str | None
    has_metadata: bool
    ingested_at: str
    source_text: str


def ids_checksum(ids: Iterable[int]) -> str:
    """sha256 hex of the sorted int64 ids: equal checksums mean equal id sets."""
    arr = np.sort(np.fromiter(ids, dtype=np.int64))
    return hashlib.sha256(arr.tobytes()).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape an index (recorded in the manifest, not checked)."""
    out = {"python": platform.python_version(), "faiss": getattr(faiss, "__version__", "?"), "numpy": np.__version__}
    for dist in ("sentence-transformers", "torch", "transformers"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            pass
    return out


def current_generation(data_dir: str | Path) -> str | None:
    """Name of the generation in force in data_dir, or None when nothing was ever built.

    Raises:
        IndexMismatchError: when ``CURRENT`` exists but is unreadable or names no valid generation.
    """
    path = Path(data_dir) / CURRENT_FILE
    try:
        name = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexMismatchError(f"{path} is unreadable ({exc.__class__.__name__}); run `bulletin-bot ingest --rebuild`") from None
    if not name:
        return None
    if not _GENERATION_NAME.match(name):
        raise IndexMismatchError(f"{path} names no valid index generation ({name[:40]!r}); run `bulletin-bot ingest --rebuild`")
    return name


def sqlite_uri(path: str | Path, mode: str) -> str:
    """An SQLite ``file:`` URI for path opened in mode (ro, rw, rwc); ``#``, ``?`` and ``%`` in the path are quoted."""
    from urllib.request import pathname2url

    return f"file:{pathname2url(str(Path(path).absolute()))}?mode={mode}"


def file_checksum(path: Path) -> str:
    """sha256 hex of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()



# -- writing -------------------------------------------------------------------------------
@contextlib.contextmanager
def ingest_lock(data_dir: str | Path) -> Iterator[None]:
    """Exclusive lock on data_dir for one build at a time (blocks until the other build ends)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_stale_builds(data_dir: str | Path) -> int:
    """Remove what a killed build left behind: ``generations/.<name>.partial`` directories and the
    temporary ``.CURRENT.<pid>.tmp`` files. Call it holding :func:`ingest_lock`: builds take that lock,
    so none of these can belong to a build still running (on this host; see README, "One writer at a
    time"). Returns how many were removed."""
    data_dir = Path(data_dir)
    gen_root = data_dir / GENERATIONS_DIR
    stale = [d for d in gen_root.iterdir() if d.name.startswith(".") and d.name.endswith(".partial")] \
        if gen_root.is_dir() else []
    stale += [f for f in data_dir.glob(f".{CURRENT_FILE}.*.tmp") if f.is_file()] if data_dir.is_dir() else []
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if stale:
        log.info("removed %d unfinished build(s) left by an ingest that was stopped: %s", len(stale),
                 ", ".join(p.name for p in stale))
    return len(stale)


def _new_generation_name() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + os.urandom(3).hex()


#: From this many passages on, a generation's FAISS index is approximate (IVF), below it exact.
APPROX_MIN_PASSAGES = 100_000
#: Lists probed per IVF search, and vectors its clustering is trained on.
IVF_NPROBE = 64
IVF_TRAIN_SAMPLE = 64 * 1024
#: The generation's sub-directory holding its saved BM25 index (memory-mapped on load).
LEXICAL_DIR = "bm25"
#: In LEXICAL_DIR: the generation's CaseProfile (retrieval.answerability.casing), saved so loading need not build it.
CASING_FILE = "casing.json"


def write_generation(data_dir: str | Path, model: str, dimension: int, bulletins: list[BulletinRecord],
                     passages: list[Passage], vectors: np.ndarray) -> str:
    """Write a new generation and switch ``CURRENT`` to it; returns its name.

    Args:
        model: encoder model name recorded in the manifest.
        dimension: vector length.
        bulletins: every bulletin of the new generation.
        passages: every passage, each belonging to one of ``bulletins``.
        vectors: float32 array of shape (len(passages), dimension), row i embedding passages[i].

    Raises:
        ValueError: when shapes disagree or ids repeat. On any error the previous generation stays
            in force; the partial directory is removed.
    """
    if vectors.shape != (len(passages), dimension):
        raise ValueError(f"vectors must have shape ({len(passages)}, {dimension}), got {vectors.shape}")
    ids = np.array([p.id for p in passages], dtype=np.int64)
    if len(np.unique(ids)) != len(ids):
        raise ValueError("duplicate passage ids in one generation")
    data_dir = Path(data_dir)
    name = _new_generation_name()
    gen_root = data_dir / GENERATIONS_DIR
    gen_root.mkdir(parents=True, exist_ok=True)
    tmp = gen_root / f".{name}.partial"
    tmp.mkdir()
    try:
        _write_faiss(tmp / "index.faiss", dimension, ids, vectors)
        _write_store(tmp / "passages.sqlite", bulletins, passages)
        lexical_files = _write_lexical(tmp / LEXICAL_DIR, passages)
        lexical_files.append(_write_instruments(tmp, passages))
        manifest = {
            "format": FORMAT_VERSION, "generation": name, "model": model, "dimension": dimension,
            "passage_count": len(passages), "bulletin_count": len(bulletins), "ids_sha256": ids_checksum(ids),
            "corpus_fingerprint": hashlib.sha256("".join(sorted(b.source_file + b.fingerprint for b in bulletins)).encode()).hexdigest(),
            "versions": library_versions(), "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": {f: file_checksum(tmp / f) for f in ("index.faiss", "passages.sqlite", *lexical_files)},
        }
        _write_atomic(tmp / "manifest.json", json.dumps(manifest, indent=2))
        os.replace(tmp, gen_root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_atomic(data_dir / CURRENT_FILE, name + "\n")
    _prune(gen_root, keep={name})
    log.info("index generation %s in force: %d passages from %d bulletins", name, len(passages), len(bulletins))
    return name


def _write_faiss(path: Path, dimension: int, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Exact IndexFlatIP up to APPROX_MIN_PASSAGES passages; above, IndexIVFFlat with 4·√n lists
    (trained on at most IVF_TRAIN_SAMPLE vectors), searched with IVF_NPROBE lists: measured by
    benchmarks/bench_ann.py (1M passages: exact 63 ms per query, IVF4000 at nprobe 64 1.7 ms with
    recall@10 0.983). Both sit in an IndexIDMap2 under the passages' int64 ids."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(ids) >= APPROX_MIN_PASSAGES:
        nlist = int(4 * np.sqrt(len(ids)))
        inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        inner.set_direct_map_type(faiss.DirectMap.Array)  # type: ignore[attr-defined]  # read vectors back by id
        sample = np.random.default_rng(0).choice(len(ids), min(len(ids), IVF_TRAIN_SAMPLE), replace=False)
        inner.train(vectors[np.sort(sample)])
        inner.nprobe = IVF_NPROBE
        index = faiss.IndexIDMap2(inner)
    else:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if len(ids):
        index.add_with_ids(vectors, ids)
    faiss.write_index(index, str(path))


def _write_lexical(directory: Path, passages: list[Passage]) -> list[str]:
    """Build the BM25 index in the catalog's order (source file, then offset) and the case profile, and
    save them; returns their file names relative to the generation (none for an empty generation)."""
    from .lexical import LexicalIndex

    if not passages:
        return []
    from retrieval.answerability.casing import CaseProfile

    ordered = sorted(passages, key=lambda p: (p.citation.source_file, p.citation.char_start))
    LexicalIndex([p.id for p in ordered], [f"{p.context}\n{p.text}" for p in ordered]).save(directory)
    CaseProfile(p.text for p in ordered).save(directory / CASING_FILE)
    return [f"{LEXICAL_DIR}/{f}" for f in (*LexicalIndex.FILES, CASING_FILE)]


def _write_instruments(directory: Path, passages: list[Passage]) -> str:
    """Extract the instruments and their events (retrieval.instruments.timeline) and save them; returns the file name."""
    from retrieval.instruments.timeline import FILE_NAME, build_instruments

    build_instruments(passages).save(directory / FILE_NAME)
    return FILE_NAME


def _write_store(path: Path, bulletins: list[BulletinRecord], passages: list[Passage]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(_SCHEMA)
        conn.executemany("INSERT INTO bulletins VALUES (?,?,?,?,?,?,?,?,?,?)", [
            (b.source_file, b.path, b.fingerprint, b.title, b.publisher, b.date, b.url, int(b.has_metadata),
             b.ingested_at, b.source_text) for b in bulletins])
        conn.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", [
            (p.id, p.citation.source_file, p.text, p.context, p.part, p.parts, p.citation.section,
             p.citation.item_number, p.citation.item_title, p.citation.paragraph, p.citation.char_start,
             p.citation.char_end, p.citation.page) for p in passages])
        conn.commit()
    finally:
        conn.close()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _prune(gen_root: Path, keep: set[str]) -> None:
    """Remove all but the newest KEEP_OLD_GENERATIONS old generations and stale partial builds."""
    now = time.time()
    for d in gen_root.iterdir():
        if d.name.startswith(".") and d.name.endswith(".partial") and now - d.stat().st_mtime > 3600:
            shutil.rmtree(d, ignore_errors=True)
    done = sorted((d for d in gen_root.iterdir() if not d.name.startswith(".") and d.name not in keep), reverse=True)
    for d in done[KEEP_OLD_GENERATIONS:]:
        shutil.rmtree(d, ignore_errors=True)
