"""One index generation as the search holds it in memory: catalog rows, item membership, BM25, case profile.

:class:`LoadedGeneration` is built once per generation by :class:`retrieval.search.searcher.Searcher` (a
new ingest switches it) and read by :mod:`retrieval.search.ranking`; filters are applied here.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from retrieval.answerability.casing import CaseProfile
from retrieval.answerability.names import Lexicon, instrument_table_forms
from retrieval.errors import IndexNotFoundError
from retrieval.index.generations import CASING_FILE, LEXICAL_DIR
from retrieval.index.lexical import LexicalIndex
from retrieval.index.passages import PassageIndex
from retrieval.instruments.names import InstrumentTable
from retrieval.instruments.timeline import FILE_NAME as INSTRUMENTS_FILE
from retrieval.instruments.timeline import InstrumentIndex, build_instruments, item_key_of
from retrieval.text import compare_dates

log = logging.getLogger("retrieval.search.searcher")


def generation_instruments(index: PassageIndex) -> InstrumentIndex:
    """The instruments and events of one generation (retrieval.instruments.timeline): its saved ``instruments.json``,
    else (an older generation, or one made with another alias table) built now from its passages."""
    saved = index.path / INSTRUMENTS_FILE
    try:
        return InstrumentIndex.from_json(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("index generation %s: building its instrument index (%s)", index.generation, exc)
        return build_instruments(index.iter_passages())


class LoadedGeneration:
    """One index generation with its BM25 index and in-memory catalog."""

    def __init__(self, index: PassageIndex, lexical: bool = True):
        self.index = index
        rows = index.catalog()
        self.ids = np.array([r.id for r in rows], dtype=np.int64)
        self.row_of = {int(pid): i for i, pid in enumerate(self.ids)}
        self.rows = rows
        self.item_of = [item_key_of(r.source_file, r.section, r.item_number, r.paragraph) for r in rows]
        self.members: dict[tuple, list[int]] = {}
        self.sections: dict[tuple, list[int]] = {}  # (source_file, section) -> rows outside items
        for i, key in enumerate(self.item_of):
            self.members.setdefault(key, []).append(i)
            if key[2] is None:
                self.sections.setdefault(key[:2], []).append(i)
        self.lexical = self._lexical(index, rows) if lexical else LexicalIndex([], [])
        self.casing = self._casing(index, rows)
        self._texts: dict[str, str] = {}
        self._instruments: InstrumentIndex | None = None
        self._instruments_lock = threading.Lock()
        self._lexicon: Lexicon | None = None
        self._lexicon_lock = threading.Lock()

    @property
    def lexicon(self) -> Lexicon:
        """The generation's corpus statistics for names (:class:`retrieval.answerability.names.Lexicon`), built on first
        use from the catalog: every bulletin's headings, passages, publisher and links."""
        with self._lexicon_lock:
            if self._lexicon is None:
                by_file: dict[str, list[str]] = {}
                for r in self.rows:
                    parts = by_file.setdefault(r.source_file, [r.title or "", r.publisher or "", r.url or ""])
                    parts += [r.context, r.text]
                table = instrument_table_forms(InstrumentTable.load().instruments.values())
                self._lexicon = Lexicon.build(((f, "\n".join(p)) for f, p in by_file.items()), table)
            return self._lexicon

    @property
    def instruments(self) -> InstrumentIndex:
        """The generation's instruments and events (retrieval.instruments.timeline): its saved ``instruments.json``,
        else (an older generation, or one made with another alias table) built now from the catalog."""
        with self._instruments_lock:
            if self._instruments is None:
                self._instruments = generation_instruments(self.index)
            return self._instruments

    def _lexical(self, index: PassageIndex, rows: list) -> LexicalIndex:
        """The generation's saved BM25 index (memory-mapped), else one built now from the rows."""
        saved = index.path / LEXICAL_DIR
        if saved.is_dir():
            try:
                return LexicalIndex.load(saved, self.ids)
            except (OSError, ValueError) as exc:
                log.warning("index generation %s: its BM25 index cannot be used (%s); building it", index.generation, exc)
        return LexicalIndex(self.ids, [f"{r.context}\n{r.text}" for r in rows])

    def _casing(self, index: PassageIndex, rows: list) -> CaseProfile:
        """The generation's saved case profile, else one built now from the rows."""
        saved = index.path / LEXICAL_DIR / CASING_FILE
        if saved.exists():
            try:
                return CaseProfile.load(saved)
            except (OSError, ValueError) as exc:
                log.warning("index generation %s: its case profile cannot be used (%s); building it", index.generation, exc)
        return CaseProfile(r.text for r in rows)

    def source_text(self, source_file: str) -> str:
        if source_file not in self._texts:
            self._texts[source_file] = self.index.source_text(source_file)
        return self._texts[source_file]

    def allowed_rows(self, filters: dict[str, str]) -> np.ndarray | None:
        """Row indices that pass the filters, or None when no filter is set.

        Args:
            filters: {key: value} with keys of :data:`retrieval.search.filters.FILTER_KEYS`, already validated.

        Returns:
            int64 array of row indices (into :attr:`rows`), possibly empty; None when ``filters`` is empty.

        Dates compare at the precision both sides have: ``since`` keeps a bulletin dated on or after
        it, ``until`` and ``as_of`` one dated on or before it (``as_of:2024`` keeps ``2024-11``;
        ``as_of:2024-10`` drops it; and a bulletin dated just ``2024`` passes ``as_of:2024-06``).
        A bulletin with no date is left out by any date filter — under ``as_of``, because it
        cannot be shown to predate the cut-off.
        """
        if not filters:
            return None
        keep = []
        sec = filters.get("section", "").lower()
        bul = filters.get("bulletin", "").lower()
        pub = filters.get("publisher", "").lower()
        since, until, as_of = filters.get("since"), filters.get("until"), filters.get("as_of")
        for i, r in enumerate(self.rows):
            source_file, section, title, publisher, date = r.source_file, r.section, r.title, r.publisher, r.date
            if sec and sec not in (section or "").lower():
                continue
            if bul and bul not in title.lower() and bul not in source_file.lower():
                continue
            if pub and pub not in (publisher or "").lower():
                continue
            if since and (not date or compare_dates(date, since) < 0):
                continue
            if until and (not date or compare_dates(date, until) > 0):
                continue
            if as_of and (not date or compare_dates(date, as_of) > 0):
                continue
            keep.append(i)
        return np.array(keep, dtype=np.int64)


def instruments_in_force(data_dir) -> InstrumentIndex:
    """The instruments of the generation in force in ``data_dir``, for a caller with no
    :class:`~retrieval.search.searcher.Searcher` (the ``timeline`` command): checks no model, builds no BM25.

    Raises:
        IndexNotFoundError: nothing indexed yet, or the generation in force holds no passage.
        IndexMismatchError: the generation in force fails its checks.
    """
    index = PassageIndex.load(data_dir)  # the instruments alone: no catalog, BM25 or case profile is read
    try:
        if not len(index):
            raise IndexNotFoundError(str(data_dir))
        return generation_instruments(index)
    finally:
        index.close()
