"""Index generations on disk and the passage index that serves one.

- :mod:`.generations` — writing a generation (FAISS file, SQLite passage store, BM25, instruments,
  manifest), switching ``CURRENT`` atomically, the ingest lock, pruning;
- :mod:`.manifest` — :func:`~retrieval.index.manifest.checked_manifest`: every refusal says how to mend it;
- :mod:`.passages` — :class:`PassageIndex`: load with checks, FAISS search, the catalog;
- :mod:`.lexical` — :class:`~retrieval.index.lexical.LexicalIndex`, BM25 over the same passages.
"""

from __future__ import annotations

from .generations import BulletinRecord, current_generation, ingest_lock, write_generation
from .passages import PassageIndex

__all__ = ["BulletinRecord", "PassageIndex", "current_generation", "ingest_lock", "write_generation"]
