"""The passage index: FAISS vectors and an SQLite passage store under the same int64 ids.

On disk, a data directory holds immutable *index generations* and a pointer to the one in force::

    DATA_DIR/
      CURRENT                      name of the generation in force (switched with os.replace)
      generations/<name>/
        index.faiss                faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), ids = passage ids
        passages.sqlite            bulletins and passages (text, citation, context) by the same ids
        manifest.json              model, dimension, counts, id checksum, corpus fingerprint, versions

A build writes a whole new generation, then switches ``CURRENT``: a crash mid-build leaves the
previous generation in force, and a reader never sees a half-written one. :meth:`PassageIndex.load`
checks the generation against its manifest (counts, ids, dimension, model) and raises
:class:`~retrieval.errors.IndexMismatchError` rather than serve a torn index.

Scores are inner products of L2-normalised vectors, i.e. cosine similarities in [-1, 1].
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
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Iterable, Iterator

import faiss
import numpy as np

from .chunking import Citation, Passage
from .errors import IndexMismatchError, IndexNotFoundError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
GENERATIONS_DIR = "generations"
#: Older generations kept beside the current one (a server may still be reading them).
KEEP_OLD_GENERATIONS = 2

_GENERATION_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,100}$")
#: Manifest keys and their types, checked before anything else is read.
_MANIFEST_TYPES = {"generation": str, "model": str, "dimension": int, "passage_count": int, "ids_sha256": str, "files": dict}

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
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL
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


class PassageIndex:
    """One loaded, checked index generation: search vectors, fetch passages and bulletins.

    Thread-safe for concurrent searches and look-ups (one SQLite connection behind a lock; FAISS
    flat search is read-only). Use :meth:`load` to open the generation in force.
    """

    def __init__(self, path: Path, manifest: dict, faiss_index, conn: sqlite3.Connection):
        self.path = path
        self.manifest = manifest
        self.generation: str = manifest["generation"]
        self.model: str = manifest["model"]
        self.dimension: int = int(manifest["dimension"])
        self._faiss = faiss_index
        self._conn = conn
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, data_dir: str | Path, model: str | None = None, generation: str | None = None) -> "PassageIndex":
        """Open and check the generation in force (or the named one).

        Args:
            data_dir: the data directory.
            model: the encoder's model name; when given it must equal the manifest's.
            generation: a generation name, default the one ``CURRENT`` names.

        Raises:
            IndexNotFoundError: no generation was ever built here.
            IndexMismatchError: files missing or unreadable, counts or ids differ between FAISS,
                the store and the manifest, or the model differs.
        """
        data_dir = Path(data_dir)
        name = generation or current_generation(data_dir)
        if name is None:
            raise IndexNotFoundError(str(data_dir))
        path = data_dir / GENERATIONS_DIR / name
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(f"index generation {name} has no readable manifest ({exc.__class__.__name__}); "
                                     "run `bulletin-bot ingest --rebuild`") from None
        bad = [k for k, t in _MANIFEST_TYPES.items() if not isinstance(manifest, dict) or not isinstance(manifest.get(k), t)]
        if bad:
            raise IndexMismatchError(f"index generation {name}: manifest.json lacks or garbles {', '.join(bad)}; "
                                     "run `bulletin-bot ingest --rebuild`")
        for file_name, checksum in manifest["files"].items():
            try:
                actual = file_checksum(path / file_name)
            except OSError:
                raise IndexMismatchError(f"index generation {name}: {file_name} is missing or unreadable; "
                                         "run `bulletin-bot ingest --rebuild`") from None
            if actual != checksum:
                raise IndexMismatchError(f"index generation {name}: {file_name} changed since it was written (checksum "
                                         "mismatch); run `bulletin-bot ingest --rebuild`")
        if model is not None and manifest.get("model") != model:
            raise IndexMismatchError(
                f"index generation {name} was built with model {manifest.get('model')!r} but the configured model is "
                f"{model!r}; run `bulletin-bot ingest --rebuild` to re-embed"
            )
        try:
            index = faiss.read_index(str(path / "index.faiss"))
        except Exception:  # faiss raises RuntimeError with a C++ message: not for users
            raise IndexMismatchError(f"index generation {name}: index.faiss is corrupt or truncated; "
                                     "run `bulletin-bot ingest --rebuild`") from None
        store = path / "passages.sqlite"
        if not store.exists():
            raise IndexMismatchError(f"index generation {name}: passages.sqlite is missing")
        conn = sqlite3.connect(sqlite_uri(store, "ro"), uri=True, check_same_thread=False)
        try:
            cls._check(name, manifest, index, conn)
        except Exception:
            conn.close()
            raise
        return cls(path, manifest, index, conn)

    @staticmethod
    def _check(name: str, manifest: dict, index, conn: sqlite3.Connection) -> None:
        expected = int(manifest.get("passage_count", -1))
        try:
            store_ids = [r[0] for r in conn.execute("SELECT id FROM passages")]
            orphans = conn.execute("SELECT count(*) FROM passages p LEFT JOIN bulletins b"
                                   " ON b.source_file = p.source_file WHERE b.source_file IS NULL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexMismatchError(f"index generation {name}: passages.sqlite is unreadable ({exc}); "
                                     "run `bulletin-bot ingest --rebuild`") from None
        problems = []
        if index.d != int(manifest.get("dimension", -1)):
            problems.append(f"FAISS dimension {index.d} != manifest {manifest.get('dimension')}")
        if index.ntotal != expected:
            problems.append(f"FAISS holds {index.ntotal} vectors, manifest says {expected}")
        if len(store_ids) != expected:
            problems.append(f"store holds {len(store_ids)} passages, manifest says {expected}")
        if orphans:
            problems.append(f"{orphans} passages belong to no bulletin")
        if not problems:
            faiss_ids = faiss.vector_to_array(index.id_map) if hasattr(index, "id_map") else None
            if faiss_ids is None:
                problems.append("FAISS index has no id map")
            elif ids_checksum(faiss_ids) != manifest.get("ids_sha256") or ids_checksum(store_ids) != manifest.get("ids_sha256"):
                problems.append("passage ids differ between FAISS, the store and the manifest")
        if problems:
            raise IndexMismatchError(f"index generation {name} is inconsistent: " + "; ".join(problems)
                                     + " — run `bulletin-bot ingest --rebuild`")

    def close(self) -> None:
        """Close the store connection."""
        self._conn.close()

    # -- queries -------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._faiss.ntotal)

    def search(self, vectors: np.ndarray, top_k: int, allowed_ids: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """Nearest passages by inner product.

        Args:
            vectors: float32 array of shape (q, dimension), L2-normalised.
            top_k: hits wanted per query (> 0); fewer come back when the index holds fewer.
            allowed_ids: when given, int64 array of the only passage ids that may be returned
                (FAISS IDSelectorBatch, applied inside the search, not after it).

        Returns:
            For each query, up to top_k (passage id, cosine score) pairs, best first; FAISS's -1
            padding is never returned.
        """
        if top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        if len(self) == 0:
            return [[] for _ in range(len(vectors))]
        k = min(top_k, len(self))
        queries = np.ascontiguousarray(vectors, dtype=np.float32)
        if allowed_ids is not None:
            allowed_ids = np.ascontiguousarray(allowed_ids, dtype=np.int64)
            if not len(allowed_ids):
                return [[] for _ in range(len(vectors))]
            selector = faiss.IDSelectorBatch(len(allowed_ids), faiss.swig_ptr(allowed_ids))
            scores, ids = self._faiss.search(queries, min(k, len(allowed_ids)), params=faiss.SearchParameters(sel=selector))
        else:
            scores, ids = self._faiss.search(queries, k)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
                for row_ids, row_scores in zip(ids, scores)]

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """Stored vectors of the given passage ids: float32 array of shape (n, dimension)."""
        ids = list(ids)
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, pid in enumerate(ids):
            out[row] = self._faiss.reconstruct(int(pid))
        return out

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        """Passages by id (ids not in the store are left out)."""
        ids = [int(i) for i in ids]
        out: dict[int, Passage] = {}
        with self._lock:
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start:chunk_start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(f"{_PASSAGE_SELECT} WHERE p.id IN ({marks})", chunk):
                    p = _passage_from_row(row)
                    out[p.id] = p
        return out

    def iter_passages(self, source_file: str | None = None) -> Iterator[Passage]:
        """Every passage (of one bulletin, when source_file is given), in reading order."""
        sql, args = f"{_PASSAGE_SELECT} ORDER BY p.source_file, p.char_start", ()
        if source_file is not None:
            sql, args = f"{_PASSAGE_SELECT} WHERE p.source_file = ? ORDER BY p.char_start", (source_file,)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        for row in rows:
            yield _passage_from_row(row)

    def catalog(self) -> list[tuple]:
        """One row per passage, in reading order, for in-memory filtering and grouping.

        Returns:
            (id, source_file, section, item_number, paragraph, char_start, char_end, context, text,
            bulletin title, publisher, date, item_title, url) tuples.
        """
        with self._lock:
            return self._conn.execute(
                "SELECT p.id, p.source_file, p.section, p.item_number, p.paragraph, p.char_start, p.char_end,"
                " p.context, p.text, b.title, b.publisher, b.date, p.item_title, b.url FROM passages p"
                " JOIN bulletins b ON b.source_file = p.source_file ORDER BY p.source_file, p.char_start").fetchall()

    def source_text(self, source_file: str) -> str:
        """The whole text of an indexed bulletin file (citation offsets point into it).

        Raises:
            KeyError: when no such bulletin is indexed.
        """
        with self._lock:
            row = self._conn.execute("SELECT source_text FROM bulletins WHERE source_file = ?", (source_file,)).fetchone()
        if row is None:
            raise KeyError(source_file)
        return row[0]

    def bulletins(self) -> list[BulletinRecord]:
        """Every indexed bulletin, oldest ingest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT source_file, path, fingerprint, title, publisher, date, url, has_metadata, ingested_at, source_text"
                " FROM bulletins ORDER BY ingested_at, source_file").fetchall()
        return [BulletinRecord(*r[:7], bool(r[7]), r[8], r[9]) for r in rows]

    def passage_ids_by_bulletin(self) -> dict[str, list[int]]:
        """Passage ids of each bulletin, keyed by source file."""
        out: dict[str, list[int]] = {}
        with self._lock:
            for sf, pid in self._conn.execute("SELECT source_file, id FROM passages ORDER BY source_file, char_start"):
                out.setdefault(sf, []).append(pid)
        return out


_PASSAGE_SELECT = (
    "SELECT p.id, p.text, p.context, p.part, p.parts, p.section, p.item_number, p.item_title, p.paragraph,"
    " p.char_start, p.char_end, p.source_file, b.title, b.publisher, b.date, b.url"
    " FROM passages p JOIN bulletins b ON b.source_file = p.source_file"
)


def _passage_from_row(row) -> Passage:
    (pid, text, context, part, parts, section, item_number, item_title, paragraph,
     start, end, source_file, title, publisher, date, url) = row
    citation = Citation(bulletin=title, publisher=publisher, date=date, section=section, item_number=item_number,
                        item_title=item_title, paragraph=paragraph, url=url, source_file=source_file,
                        char_start=start, char_end=end)
    return Passage(pid, text, citation, context, part, parts)


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


def _new_generation_name() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + os.urandom(3).hex()


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
        manifest = {
            "format": FORMAT_VERSION, "generation": name, "model": model, "dimension": dimension,
            "passage_count": len(passages), "bulletin_count": len(bulletins), "ids_sha256": ids_checksum(ids),
            "corpus_fingerprint": hashlib.sha256("".join(sorted(b.source_file + b.fingerprint for b in bulletins)).encode()).hexdigest(),
            "versions": library_versions(), "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": {f: file_checksum(tmp / f) for f in ("index.faiss", "passages.sqlite")},
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
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    faiss.write_index(index, str(path))


def _write_store(path: Path, bulletins: list[BulletinRecord], passages: list[Passage]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(_SCHEMA)
        conn.executemany("INSERT INTO bulletins VALUES (?,?,?,?,?,?,?,?,?,?)", [
            (b.source_file, b.path, b.fingerprint, b.title, b.publisher, b.date, b.url, int(b.has_metadata),
             b.ingested_at, b.source_text) for b in bulletins])
        conn.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", [
            (p.id, p.citation.source_file, p.text, p.context, p.part, p.parts, p.citation.section,
             p.citation.item_number, p.citation.item_title, p.citation.paragraph, p.citation.char_start,
             p.citation.char_end) for p in passages])
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
