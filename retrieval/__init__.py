"""Retrieval core of the bulletin bot: parse bulletins, cut passages, embed, index and search.

Nothing here imports Slack: ``bot`` depends on ``retrieval``, never the reverse.
"""

from .bulletin import Bulletin, Item, Paragraph, Section, parse_bulletin, read_bulletin
from .chunking import Citation, Passage, passages_from
from .errors import BulletinParseError, ConfigurationError, IndexMismatchError, IndexNotFoundError, RetrievalError
from .search import Answer, Hit, Searcher

__all__ = [
    "Answer", "Bulletin", "BulletinParseError", "Citation", "ConfigurationError", "Hit", "IndexMismatchError",
    "IndexNotFoundError", "Item", "Paragraph", "Passage", "RetrievalError", "Searcher", "Section",
    "parse_bulletin", "passages_from", "read_bulletin",
]
