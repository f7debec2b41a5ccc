"""The passage index: FAISS vectors and an SQLite passage store under the same int64 ids.

:class:`PassageIndex` is one loaded, checked index generation: nearest-passage search, passages,
bulletins and the catalog. How generations are laid out on disk, written and switched (``CURRENT``)
is :mod:`retrieval.index.generations`; its public names are importable from here too.
:meth:`PassageIndex.load` checks the generation against its manifest (counts, ids, dimension,
model) and raises :class:`~retrieval.errors.IndexMismatchError` rather than serve a torn index.

Scores are inner products of L2-normalised vectors, i.e. cosine similarities in [-1, 1].
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, cast

import faiss
import numpy as np

from retrieval.chunking import Citation, Passage
from retrieval.errors import ConfigurationError, IndexMismatchError, IndexNotFoundError

from .generations import GENERATIONS_DIR, BulletinRecord, current_generation, ids_checksum, sqlite_uri
from .manifest import checked_manifest

#: With an approximate (IVF) index, a filter leaving at most this many passages is searched exactly.
EXACT_FILTER_MAX = 100_000
#: faiss' OpenMP threads for a search: one query at a time is served, and on 2 cores faiss' own
#: thread pool beside torch's made an IndexIDMap search ~2× slower (ARCHITECTURE.md, measured).
DEFAULT_SEARCH_THREADS = 1


def set_search_threads(threads: int = DEFAULT_SEARCH_THREADS) -> None:
    """Set faiss' OpenMP threads (process-wide) for the searches to come; the searcher calls this when
    it is created (:class:`~retrieval.search.searcher.Searcher`), nothing does at import.

    Raises:
        ConfigurationError: ``threads`` is not a positive integer.
    """
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ConfigurationError(f"faiss_threads must be an integer >= 1, got {threads!r}")
    faiss.omp_set_num_threads(threads)


class CatalogRow(NamedTuple):
    """One passage as the search holds it in memory (:meth:`PassageIndex.catalog`).

    Offsets are characters into the bulletin's stored source text; ``title``/``publisher``/``date``/
    ``url`` are the bulletin's; ``item_number``/``item_title`` are None outside items.
    """

    id: int
    source_file: str
    section: str | None
    item_number: int | None
    paragraph: int
    char_start: int
    char_end: int
    context: str
    text: str
    title: str
    publisher: str | None
    date: str | None
    item_title: str | None
    url: str | None
    page: int | None = None  # the PDF page of char_start (None outside PDFs)


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
        self._ivf: faiss.IndexIVF | None = None
        try:  # an approximate (IVF) generation: its nprobe applies to filtered searches too
            self._ivf = faiss.extract_index_ivf(faiss_index)
        except RuntimeError:
            pass
        self._conn = conn
        self._lock = threading.Lock()
        # a format-1 generation has no page column: its passages read page as NULL
        columns = {row[1] for row in conn.execute("PRAGMA table_info(passages)")}
        self._page = "p.page" if "page" in columns else "NULL"
        self._passage_select = _PASSAGE_SELECT.replace("p.page", self._page)

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
        manifest = checked_manifest(path, name, model)
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
            if self._ivf is not None and len(allowed_ids) <= EXACT_FILTER_MAX:
                # an approximate index probes only some lists and could miss the few allowed passages:
                # score those exactly instead
                return self._exact_among(queries, allowed_ids, min(k, len(allowed_ids)))
            selector = faiss.IDSelectorBatch(len(allowed_ids), faiss.swig_ptr(allowed_ids))
            params = (faiss.SearchParametersIVF(sel=selector, nprobe=self._ivf.nprobe) if self._ivf is not None  # type: ignore[call-arg]
                      else faiss.SearchParameters(sel=selector))  # type: ignore[call-arg]
            scores, ids = self._faiss.search(queries, min(k, len(allowed_ids)), params=params)
        else:
            scores, ids = self._faiss.search(queries, k)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
                for row_ids, row_scores in zip(ids, scores)]

    def _exact_among(self, queries: np.ndarray, allowed_ids: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Exact top-k among allowed_ids (their stored vectors scored with numpy)."""
        scores = queries @ self.vectors(allowed_ids).T
        out = []
        for row in scores:
            top = np.argpartition(-row, k - 1)[:k]
            top = top[np.argsort(-row[top], kind="stable")]
            out.append([(int(allowed_ids[i]), float(row[i])) for i in top])
        return out

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """Stored vectors of the given passage ids: float32 array of shape (n, dimension).

        Raises:
            RuntimeError (from faiss): an id that is not in the index.
        """
        keys = np.ascontiguousarray(np.fromiter((int(i) for i in ids), dtype=np.int64))
        if not len(keys):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._faiss.reconstruct_batch(keys)

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        """Passages by id (ids not in the store are left out)."""
        ids = [int(i) for i in ids]
        out: dict[int, Passage] = {}
        with self._lock:
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start:chunk_start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(f"{self._passage_select} WHERE p.id IN ({marks})", chunk):
                    p = _passage_from_row(row)
                    out[p.id] = p
        return out

    def iter_passages(self, source_file: str | None = None) -> Iterator[Passage]:
        """Every passage (of one bulletin, when source_file is given), in reading order."""
        sql, args = f"{self._passage_select} ORDER BY p.source_file, p.char_start", cast("tuple[str, ...]", ())
        if source_file is not None:
            sql, args = f"{self._passage_select} WHERE p.source_file = ? ORDER BY p.char_start", (source_file,)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        for row in rows:
            yield _passage_from_row(row)

    def catalog(self) -> list[CatalogRow]:
        """One :class:`CatalogRow` per passage, in reading order (source file, then offset), for
        in-memory filtering and grouping (``page`` None for generations written before pages)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT p.id, p.source_file, p.section, p.item_number, p.paragraph, p.char_start, p.char_end,"
                f" p.context, p.text, b.title, b.publisher, b.date, p.item_title, b.url, {self._page} FROM passages p"
                " JOIN bulletins b ON b.source_file = p.source_file ORDER BY p.source_file, p.char_start").fetchall()
        return [CatalogRow._make(r) for r in rows]

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
        return [BulletinRecord(source_file, path, fingerprint, title, publisher, date, url, bool(has_metadata), at, text)
                for source_file, path, fingerprint, title, publisher, date, url, has_metadata, at, text in rows]

    def passage_ids_by_bulletin(self) -> dict[str, list[int]]:
        """Passage ids of each bulletin, keyed by source file."""
        out: dict[str, list[int]] = {}
        with self._lock:
            for sf, pid in self._conn.execute("SELECT source_file, id FROM passages ORDER BY source_file, char_start"):
                out.setdefault(sf, []).append(pid)
        return out


_PASSAGE_SELECT = (
    "SELECT p.id, p.text, p.context, p.part, p.parts, p.section, p.item_number, p.item_title, p.paragraph,"
    " p.char_start, p.char_end, p.source_file, b.title, b.publisher, b.date, b.url, p.page"
    " FROM passages p JOIN bulletins b ON b.source_file = p.source_file"
)


def _passage_from_row(row) -> Passage:
    (pid, text, context, part, parts, section, item_number, item_title, paragraph,
     start, end, source_file, title, publisher, date, url, page) = row
    citation = Citation(bulletin=title, publisher=publisher, date=date, section=section, item_number=item_number,
                        item_title=item_title, paragraph=paragraph, url=url, source_file=source_file,
                        char_start=start, char_end=end, page=page)
    return Passage(pid, text, citation, context, part, parts)

