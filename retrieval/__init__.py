"""Retrieval core of the bulletin bot: parse bulletins, cut passages, embed, index and search.

Nothing here imports Slack: ``bot`` depends on ``retrieval``, never the reverse. One package per stage
of the flow, each with a small face (its ``__init__``)::

    intake/         one extractor per format (EXTRACTORS), structure, metadata  → Bulletin
    chunking.py     Passage and Citation, the shared value types                → passages
    encoders/       the Encoder protocol, make_encoder, torch and ONNX backends → vectors
    answerability/  what a question asks, whether an item states it (verdicts)
    instruments/    the laws the bulletins follow: names, events, timelines
    index/          index generations (atomic, checksummed), the FAISS passage index, BM25
    search/         the Searcher, ranking, filters, the answer tiers, calibration, evaluation
    ingest.py       intake → chunking → encoders → index, incremental and idempotent
    errors.py text.py   leaves: import nothing else of the project

``ingest`` here is the module: :func:`retrieval.ingest.ingest` (a function of the same name would hide
the module from ``import retrieval.ingest``).
"""

from . import ingest
from .chunking import Citation, Passage
from .errors import (
    BulletinParseError,
    ConfigurationError,
    FilterError,
    IndexMismatchError,
    IndexNotFoundError,
    RetrievalError,
)
from .search.answer import Answer, Hit
from .search.searcher import Searcher

__all__ = [
    "Answer", "BulletinParseError", "Citation", "ConfigurationError", "FilterError", "Hit", "IndexMismatchError",
    "IndexNotFoundError", "Passage", "RetrievalError", "Searcher", "ingest",
]
