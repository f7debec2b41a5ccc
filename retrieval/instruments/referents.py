"""The instrument a trigger or a sentence refers to: clauses, the basis position, comparisons, anaphora.

Used by :func:`retrieval.instruments.attribution.read_item` (the rules are listed in that module's
docstring). :func:`candidates` gives the instruments a trigger of a sentence that names some belongs to;
:func:`unnamed_target` the one a sentence naming none refers to (an anaphor, the item's principal
instrument, the only instrument the item names); :func:`code_parent` the instrument a code sits under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.chunking import Passage

from .events import STAGE, Trigger
from .names import InstrumentTable, Mention

#: Words before "under X" that make what stands under X a part of X ("duties under the OSA").
_PART_WORDS = re.compile(r"\b(?:duties|duty|obligations?|provisions?|requirements?|rules|rights|Articles?|Art\.|"
                         r"Chapter|Sections?|Sec\.|Part|Parts|principles)\s+(?:[\w’'()]+\s+){0,3}$", re.I)

#: What puts the instrument after it in the position of a basis, not of the thing a step is of.
_RELATION = re.compile(r"\b(?:under|pursuant to|in accordance with|in compliance with|compliance with|comply with"
                       r"|compliant with|within the meaning of|provided for by|as required by|required by"
                       r"|to supplement|supplementing|supplements?|to implement|implementing|implementation of"
                       r"|in line with|aligned with|align(?:ed)? with|alignment with)\s+(?:the\s+|its\s+)?(?:[\w’']+\s+){0,1}$",
                       re.I)

#: A name given as a comparison: "Unlike COPPA, the law extends …".
_COMPARISON = re.compile(r"\b(?:unlike|like|similar to|similarly to|as with|compared (?:to|with))\s+(?:the\s+)?$", re.I)

#: Where a clause ends: a trigger only takes the instruments of its own clause.
_CLAUSE_END = re.compile(r"[;:]\s|\s[–—]\s|,\s+(?=(?:but|while|whereas|which|whose|who)\b)"
                         r"|,\s+(?=(?:and|as well as)\s+(?:the|a|an|it|its|their|this|these|those|we|they|he|she|will"
                         r"|would|has|have|is|are|was|were|must|may|can|[A-Z])\b)|\s(?=and also\b)")

#: A relative clause, whose subject is the name just before it: ", which will come into force …".
_RELATIVE_START = re.compile(r"\s*(?:which|whose|that)\b", re.I)

#: What joins coordinated names: "the TDDDG and the GDPR", "the DSA, the DMA".
_COORDINATED = re.compile(r"\s*(?:\([^()]{1,12}\)\s*)?(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+)(?:the\s+)?")

#: A publication verb before a guidance word: "has published various updates and guidance".
_PUBLISHES = re.compile(r"\b(?:published|issued|released|adopted|launched|finali[sz]ed|presented)\b", re.I)

#: An unnamed subject a step belongs to: "legislation that have come into force".
_UNNAMED_SUBJECT = re.compile(r"\b(?:that|which)\s+(?:\w+\s+){0,2}$")

#: A subject that refers back to an instrument: "It will …", "The new Rule …", "If enacted, the law …".
_ANAPHOR = re.compile(
    r"^\W*(?:[^,.;:]{0,60},\s*)?(?:(?:It|it|They|they)(?=[\s’'])|(?:The|the|This|this|These|these)\s+"
    r"(?:(?:new|revised|amended|final|updated|same)\s+)?(Act|Law|law|Regulations?|regulations?|Rules?|rules?|Bill|bill"
    r"|Codes?|Directive|Ordinance|Treaty|treaty|Agreement|agreement|Measures|Framework|framework)\b)")

#: A date relative to an entry into force, which is the referred instrument's.
_ENTRY_RELATIVE = re.compile(r"\bafter (?:the )?entry into force\b", re.I)

#: "It remains to be seen …", "it is likely that …": an "it" that refers to nothing.
_DUMMY_IT = re.compile(r"\b[Ii]t\s+(?:is|remains|was|seems|appears)\s+(?:\w+\s+)?(?:to be|that|whether|unclear|likely"
                       r"|important|worth|time|possible|necessary|essential)\b")

#: Triggers that name their object: only an instrument named after them is the one they are of.
_NEEDS_OBJECT = re.compile(r"^(?:adequacy decision|issued|promulgated|published|released)", re.I)

#: Kinds an anaphor ("It will …", "The regulation was …") may carry: steps of the instrument itself.
_ANAPHOR_KINDS = frozenset(STAGE) | {"deadline"}


@dataclass
class Sentence:
    """One sentence of an item: its passage, span in the passage's text, text and mentions."""

    passage: Passage
    start: int
    end: int
    text: str
    mentions: list[Mention]
    quote: tuple[int, int] | None = None  # a shorter verbatim quote: the bold headline that states it all

    def named(self) -> list[Mention]:
        """Its mentions that are not comparisons ("Unlike COPPA, …")."""
        return [m for m in self.mentions if not _COMPARISON.search(self.text[max(0, m.start - 60):m.start])]


@dataclass
class ItemContext:
    """What the sentences of an item share: its sentences, the title's mentions, its principal instrument."""

    sentences: list[Sentence]
    title_mentions: list[Mention]
    separate_title: bool  # the title is a heading of its own, not the first sentence's words
    principal: str | None = None
    from_title: bool = False
    only_named: list[str] = field(default_factory=list)


def clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of a sentence (see :data:`_CLAUSE_END`)."""
    cuts = [0, *(m.end() for m in _CLAUSE_END.finditer(text)), len(text)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def candidates(s: Sentence, t: Trigger, trigger_text: str) -> list[str]:
    """The keys a trigger of a sentence that names instruments belongs to (see the module docstring)."""
    text = s.text
    rel_subject = _UNNAMED_SUBJECT.search(text, max(0, t.start - 30), t.start)
    if rel_subject and not any(0 <= rel_subject.start() - m.end <= 3 for m in s.mentions):
        return []  # "legislation that have come into force": the step is of something unnamed
    parts = clauses(text)
    idx = next(i for i, (a, b) in enumerate(parts) if a <= t.start < b or i == len(parts) - 1)
    a, b = parts[idx]
    named = s.named()
    ms = [m for m in named if a <= m.start < b]
    needs_object = bool(_NEEDS_OBJECT.match(trigger_text))
    if needs_object:
        ms = [m for m in ms if m.start >= t.end]
    if not ms and idx > 0 and _RELATIVE_START.match(text, a):  # ", which will come into force …": its antecedent
        return [m.key for m in named if parts[idx - 1][0] <= m.start < parts[idx - 1][1]][-1:]
    keep = []
    for m in ms:
        before = text[max(0, m.start - 60):m.start]
        rel = _RELATION.search(before)
        if t.kind not in STAGE and rel and 0 < m.start - t.end <= 40:
            # "guidance under the AI Act", "guidance on the implementation of the TDDDG and the GDPR": those alone
            joined, end = [m.key], m.end
            for x in (x for x in ms if x.start > m.start):
                if x.key == joined[-1]:
                    continue  # its acronym in brackets: "… Act (TDDDG) and the …"
                if not _COORDINATED.fullmatch(text[end:x.start]):
                    break
                joined.append(x.key)
                end = x.end
            return list(dict.fromkeys(joined))
        if t.kind in STAGE and rel and not _PART_WORDS.search(before[:rel.start()]):
            continue
        keep.append(m.key)
    if not keep and t.kind in STAGE and text[b - 2:b].startswith(":") and idx + 1 < len(parts):
        nxt = [m for m in named if parts[idx + 1][0] <= m.start < parts[idx + 1][1]]
        return [m.key for m in nxt[:1]]  # "adopted additional regulations …: Delegated Regulation (EU) 2025/301"
    if not ms and not keep and not needs_object and (t.kind not in STAGE or t.date):
        keys = list(dict.fromkeys(m.key for m in named))
        return keys if len(keys) == 1 else []  # a clause naming none: the sentence's only instrument
    return list(dict.fromkeys(keep))


def _anaphor_target(s: Sentence, item: ItemContext, before: list[Sentence], table: InstrumentTable) -> str | None:
    """The instrument an anaphoric subject refers to: the last one named whose name has the anaphor's
    noun ("the regulation" → "Delegated Regulation C(2025) 1682"), else the title's, else the last named."""
    m = _ANAPHOR.match(s.text)
    noun = (m.group(1) or "").lower().rstrip("s") if m else ""
    named = [x for sent in before for x in sent.named()]
    if noun:
        for x in reversed(named):
            name = f"{x.surface} {table.name_of(x.key)}".lower()
            if re.search(rf"\b{noun}", name):
                return x.key
    if item.principal and item.from_title:
        return item.principal
    return named[-1].key if named else item.principal


def unnamed_target(s: Sentence, i: int, trig: list[Trigger], item: ItemContext, before: list[Sentence],
                    table: InstrumentTable) -> tuple[str | None, frozenset[str] | None]:
    """For a sentence that names no instrument: (the key its events go to, the kinds allowed — None for all)."""
    if (_ANAPHOR.match(s.text) and not _DUMMY_IT.search(s.text)) or any(
            t.kind == "in_force" and _ENTRY_RELATIVE.search(s.text) for t in trig):
        return _anaphor_target(s, item, before, table), _ANAPHOR_KINDS
    if item.principal and (i == 0 or any(t.kind in ("deadline", "in_force") and t.date for t in trig)):
        return item.principal, None
    if item.principal and item.from_title and any(
            t.kind == "guidance" and _PUBLISHES.search(s.text[:t.start]) for t in trig):
        return item.principal, frozenset({"guidance"})  # guidance published in an item titled by its law is under it
    if i == 0 and len(item.only_named) == 1:
        return item.only_named[0], frozenset({"fine", "guidance"})  # a fine is imposed under a law
    return None, None


def code_parent(s: Sentence, code_key: str, item: ItemContext) -> str | None:
    """The instrument a code sits under: the one named after "under" in its sentence, else the principal."""
    for m in s.mentions:
        if m.key != code_key and re.search(r"\bunder\s+(?:the\s+)?$", s.text[max(0, m.start - 12):m.start]):
            return m.key
    return item.principal if item.from_title and item.principal != code_key else None
