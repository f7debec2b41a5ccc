"""Which instrument each event of an item belongs to, read from the item's sentences and structure.

:func:`read_item` takes one item (its passages, in order) and returns the instruments it is about and
its events, each an (instrument key, kind, date, sentence) that a timeline row quotes. The rules, each
general and tested on a real sentence in ``tests/test_instrument_rules.py``:

- **Mentions** come from :meth:`~retrieval.instruments.names.InstrumentTable.find_mentions`, with the
  item's text as context. Within an item, a name found by pattern whose core words are a subset of
  another name's is that instrument ("Consumer Data Privacy Law" in the title, "Montana Consumer Data
  Privacy Act" in the text), and so is a bill "aimed at adopting" (or "enacting", "establishing") a
  named Act.
- **About**: an instrument the title or the first sentence names, that the item names twice or more (a
  defined name, "General Data Protection Regulation (GDPR)", is two mentions), that labels a paragraph
  ("KRITIS Umbrella Law: …"), or that one of the item's events belongs to.
- **Which instrument a trigger belongs to**: those named in its clause (a sentence is cut at ``;``,
  ``:``, dashes and before ", and", ", which"…); a relative clause (", which will come into force …")
  looks back at its antecedent; a clause naming none takes the sentence's only instrument. A trigger
  that needs an object ("adequacy decision", "issued") takes only a name after it. For a *stage*, an
  instrument named as the basis of something else — "under", "pursuant to", "to supplement", "in
  compliance with" X — is not the one the stage is of (Ofcom's draft codes "under the Online Safety
  Act" are no draft of the Act), unless what stands under X is a part of it ("duties under the OSA
  came into force"); guidance or a fine "under X" is X's alone. A comparison ("Unlike COPPA") takes
  nothing, and neither does a step whose subject is something unnamed ("legislation that has come into
  force") or the bulletin's own earlier coverage ("We covered … in our last update").
- **A code is guidance of its Act**: a Code (or Codes) of Practice's guidance words, and its draft or
  adoption, are guidance events of the instrument it sits under (named after "under", else the item's
  principal instrument); its draft and adoption stay the code's own stages.
- **A pending bill amends nothing yet**: in a sentence about a bill not enacted, "amends X" is a draft
  of X, and no amendment of the bill.
- **Sentences that name no instrument**: an anaphoric subject ("It will …", "The new Rule becomes
  effective …", "If enacted, the law …"), or a date relative to the entry into force, refers to the
  instrument the anaphor's noun names last (else the title's instrument, else the last one named); a
  dated deadline or entry into force, and the item's first sentence, go to the principal instrument
  (the one the title names, else the only one the item is about), with the sentence's other events; a
  fine or guidance in the headline goes to the only instrument the item names (a fine is imposed under
  a law); the kind a separate title states ("Bermuda Clarifies …") is the first sentence's when that
  sentence states none.
- **Dates**: a trigger's own date (see :func:`~retrieval.instruments.events.triggers`); else the one
  date the item states for the same instrument and kind; else — for steps taken, not entries into force
  or deadlines — the item's ``Date:`` field (Securiti-style items).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.chunking import Passage, sentence_spans

from .events import STAGE, Trigger, normalise_date, triggers
from .names import InstrumentTable, Mention

#: Words before "under X" that make what stands under X a part of X ("duties under the OSA").
_PART_WORDS = re.compile(r"\b(?:duties|duty|obligations?|provisions?|requirements?|rules|rights|Articles?|Art\.|"
                         r"Chapter|Sections?|Sec\.|Part|Parts|principles)\s+(?:[\w’'()]+\s+){0,3}$", re.I)
#: What puts the instrument after it in the position of a basis, not of the thing a step is of.
_RELATION = re.compile(r"\b(?:under|pursuant to|in accordance with|in compliance with|compliance with|comply with"
                       r"|compliant with|within the meaning of|provided for by|as required by|required by"
                       r"|to supplement|supplementing|supplements?|to implement|implementing|implementation of"
                       r"|in line with|aligned with|align(?:ed)? with)\s+(?:the\s+|its\s+)?(?:[\w’']+\s+){0,1}$", re.I)
_COMPARISON = re.compile(r"\b(?:unlike|like|similar to|similarly to|as with|compared (?:to|with))\s+(?:the\s+)?$", re.I)
#: Where a clause ends: a trigger only takes the instruments of its own clause.
_CLAUSE_END = re.compile(r"[;:]\s|\s[–—]\s|,\s+(?=(?:but|while|whereas|which|whose|who)\b)"
                         r"|,\s+(?=(?:and|as well as)\s+(?:the|a|an|it|its|their|this|these|those|we|they|he|she|will"
                         r"|would|has|have|is|are|was|were|must|may|can|[A-Z])\b)|\s(?=and also\b)")
_RELATIVE_START = re.compile(r"\s*(?:which|whose|that)\b", re.I)
_COORDINATED = re.compile(r"\s*(?:\([^()]{1,12}\)\s*)?(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+)(?:the\s+)?")
#: A publication verb before a guidance word: "has published various updates and guidance".
_PUBLISHES = re.compile(r"\b(?:published|issued|released|adopted|launched|finali[sz]ed|presented)\b", re.I)
#: An unnamed subject a step belongs to: "legislation that have come into force".
_UNNAMED_SUBJECT = re.compile(r"\b(?:that|which)\s+(?:\w+\s+){0,2}$")
_ANAPHOR = re.compile(
    r"^\W*(?:[^,.;:]{0,60},\s*)?(?:(?:It|it|They|they)(?=[\s’'])|(?:The|the|This|this|These|these)\s+"
    r"(?:(?:new|revised|amended|final|updated|same)\s+)?(Act|Law|law|Regulations?|regulations?|Rules?|rules?|Bill|bill"
    r"|Codes?|Directive|Ordinance|Treaty|treaty|Agreement|agreement|Measures|Framework|framework)\b)")
_ENTRY_RELATIVE = re.compile(r"\bafter (?:the )?entry into force\b", re.I)
_ENACTED = re.compile(r"\b(?:signed into law|enacted|became law|signed by the governor)\b", re.I)
_BILL_WORD = re.compile(r"\b(?:bill|Bill)\b")
_AMEND_WORD = re.compile(r"\bamend", re.I)
#: A bill that would create the Act named after it: "LB504 aimed at adopting the … Act".
_BILL_ADOPTS = re.compile(r"\s+(?:\w+\s+){0,2}(?:adopting|enacting|establishing|creating|to adopt|to enact|as)\s+(?:the\s+)?$")
_RETROSPECTIVE = re.compile(r"^\W*We\s+(?:covered|reported|discussed|wrote|noted)\b")
#: "It remains to be seen …", "it is likely that …": an "it" that refers to nothing.
_DUMMY_IT = re.compile(r"\b[Ii]t\s+(?:is|remains|was|seems|appears)\s+(?:\w+\s+)?(?:to be|that|whether|unclear|likely"
                       r"|important|worth|time|possible|necessary|essential)\b")
#: A sentence whose subject is a draft already reported: "The draft outlines …", "The draft chapter …".
_DRAFT_SUBJECT = re.compile(r"^\W*(?:The|This|That)\s+(?:(?:new|revised|final|third|second|first)\s+)?(?:draft|proposal)\b")
#: Triggers that name their object: only an instrument named after them is the one they are of.
_NEEDS_OBJECT = re.compile(r"^(?:adequacy decision|issued|promulgated|published|released)", re.I)
_CODE = re.compile(r"\bCodes?(?: of Practice)?$", re.I)
_LABEL = re.compile(r"^\W*([^:.!?]{3,80}):\s")
_CORE_DROP = frozenset("of on for and the to in & act law bill regulation regulations directive ordinance measures "
                       "treaty agreement code codes practice rule rules".split())
_DATE_FIELD = re.compile(r"^Date:\s*(.+?)\W*$", re.MULTILINE)
_BOLD_HEADLINE = re.compile(r"\W{0,12}?\*\*(.+?)\*\*")
#: Kinds an anaphor ("It will …", "The regulation was …") may carry: steps of the instrument itself.
_ANAPHOR_KINDS = frozenset(STAGE) | {"deadline"}


@dataclass(frozen=True)
class ItemEvent:
    """One event an item states: instrument ``key``, ``kind``, ISO ``date`` or None, and where its
    sentence is — ``passage`` and the quoted span ``[start, end)`` of the passage's text."""

    key: str
    kind: str
    date: str | None
    passage: Passage
    start: int
    end: int


@dataclass
class ItemReading:
    """What :func:`read_item` found in one item.

    Attributes:
        about: keys of the instruments the item is about, in order of first mention.
        events: its events, in text order.
        first_named: key → (passage, start, end) of the first sentence naming it (for "mentioned" rows).
        names: key → the ways the item writes an instrument the table does not know (found by pattern).
    """

    about: tuple[str, ...]
    events: list[ItemEvent]
    first_named: dict[str, tuple[Passage, int, int]] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Sentence:
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
class _Item:
    sentences: list[_Sentence]
    title_mentions: list[Mention]
    separate_title: bool  # the title is a heading of its own, not the first sentence's words
    principal: str | None = None
    from_title: bool = False
    only_named: list[str] = field(default_factory=list)


def item_date(passages: list[Passage]) -> str | None:
    """The ISO date of an item's ``Date:`` field (Securiti-style items), or None."""
    for p in passages:
        m = _DATE_FIELD.search(p.context or "")
        if m:
            return normalise_date(m.group(1), p.citation.date)
    return None


def _core(name: str) -> frozenset[str]:
    words = re.findall(r"[\w’'\-]+", name)
    if words and re.search(r"[’']s$", words[0]):
        words = words[1:]  # a jurisdiction's possessive: "Nebraska’s …"
    return frozenset(w.lower() for w in words if w.lower() not in _CORE_DROP)


def _sentences(passages: list[Passage], table: InstrumentTable, context: str) -> list[_Sentence]:
    out = []
    for p in passages:
        for s, e in sentence_spans(p.text):
            while s < e and (p.text[s] in "-•–·#> \t" or p.text[s:s + 2] == "* "):
                s += 1
            if s < e:
                text = p.text[s:e]
                out.append(_Sentence(p, s, e, text, table.find_mentions(text, context)))
    return out


def _merge_map(item: _Item, table: InstrumentTable) -> dict[str, str]:
    """Keys of the item that are another of its names (see the module docstring) → that name's key."""
    everything = item.title_mentions + [m for s in item.sentences for m in s.mentions]
    names = {m.key: m.surface for m in everything}
    out: dict[str, str] = {}
    for s in item.sentences:  # "Nebraska’s LB504 aimed at adopting the Age-Appropriate Online Design Code Act"
        for a, b in zip(s.mentions, s.mentions[1:]):
            if a.method == "bill" and b.method != "bill" and _BILL_ADOPTS.fullmatch(" " + s.text[a.end:b.start]):
                out[a.key] = b.key
    for m in everything:
        if m.method != "generic" or m.key in out:
            continue
        core = _core(m.surface)
        if len(core) < 2:
            continue
        for key, surface in names.items():
            other = _core(surface) | (_core(table.name_of(key)) if key in table.instruments else frozenset())
            if key != m.key and key not in out and core < other:
                out[m.key] = key
                break
    return out


def _clauses(text: str) -> list[tuple[int, int]]:
    cuts = [0, *(m.end() for m in _CLAUSE_END.finditer(text)), len(text)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _candidates(s: _Sentence, t: Trigger, trigger_text: str) -> list[str]:
    """The keys a trigger of a sentence that names instruments belongs to (see the module docstring)."""
    text = s.text
    rel_subject = _UNNAMED_SUBJECT.search(text, max(0, t.start - 30), t.start)
    if rel_subject and not any(0 <= rel_subject.start() - m.end <= 3 for m in s.mentions):
        return []  # "legislation that have come into force": the step is of something unnamed
    clauses = _clauses(text)
    idx = next(i for i, (a, b) in enumerate(clauses) if a <= t.start < b or i == len(clauses) - 1)
    a, b = clauses[idx]
    named = s.named()
    ms = [m for m in named if a <= m.start < b]
    needs_object = bool(_NEEDS_OBJECT.match(trigger_text))
    if needs_object:
        ms = [m for m in ms if m.start >= t.end]
    if not ms and idx > 0 and _RELATIVE_START.match(text, a):  # ", which will come into force …": its antecedent
        return [m.key for m in named if clauses[idx - 1][0] <= m.start < clauses[idx - 1][1]][-1:]
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
    if not keep and t.kind in STAGE and text[b - 2:b].startswith(":") and idx + 1 < len(clauses):
        nxt = [m for m in named if clauses[idx + 1][0] <= m.start < clauses[idx + 1][1]]
        return [m.key for m in nxt[:1]]  # "adopted additional regulations …: Delegated Regulation (EU) 2025/301"
    if not ms and not keep and not needs_object and (t.kind not in STAGE or t.date):
        keys = list(dict.fromkeys(m.key for m in named))
        return keys if len(keys) == 1 else []  # a clause naming none: the sentence's only instrument
    return list(dict.fromkeys(keep))


def _anaphor_target(s: _Sentence, item: _Item, before: list[_Sentence], table: InstrumentTable) -> str | None:
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


def _unnamed_target(s: _Sentence, i: int, trig: list[Trigger], item: _Item, before: list[_Sentence],
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


def _is_bill(key: str, s: _Sentence) -> bool:
    return any(m.key == key and (m.method == "bill" or m.surface.endswith("Bill")) for m in s.mentions)


def _parent(s: _Sentence, code_key: str, item: _Item) -> str | None:
    """The instrument a code sits under: the one named after "under" in its sentence, else the principal."""
    for m in s.mentions:
        if m.key != code_key and re.search(r"\bunder\s+(?:the\s+)?$", s.text[max(0, m.start - 12):m.start]):
            return m.key
    return item.principal if item.from_title and item.principal != code_key else None


def read_item(passages: list[Passage], table: InstrumentTable) -> ItemReading:
    """The instruments one item is about and the events it states (see the module docstring).

    Args:
        passages: the item's passages in reading order (one item: same source file and item key).
        table: the generation's instrument table (definitions already learnt).
    """
    title = passages[0].citation.item_title or ""
    context = "\n".join([title, *(p.text for p in passages)])
    sentences = _sentences(passages, table, context)
    if not sentences:
        return ItemReading((), [])
    separate = bool(title) and title not in passages[0].text[:len(title) + 20]
    item = _Item(sentences, table.find_mentions(title, context) if title else [], separate)
    merge = _merge_map(item, table)
    for ms in [item.title_mentions, *(s.mentions for s in sentences)]:
        ms[:] = [Mention(merge.get(m.key, m.key), m.start, m.end, m.surface, m.method) for m in ms]
    counts: dict[str, int] = {}
    for s in sentences:
        for m in s.mentions:
            counts[m.key] = counts.get(m.key, 0) + 1
    labels = [m.key for s in sentences for m in s.mentions if (lab := _LABEL.match(s.text)) and m.end <= lab.end(1)]
    in_title = list(dict.fromkeys(m.key for m in item.title_mentions))
    about = list(dict.fromkeys([*in_title, *(m.key for m in sentences[0].mentions),
                                *(k for k, n in counts.items() if n >= 2), *labels]))
    item.from_title = len(in_title) == 1
    item.principal = in_title[0] if item.from_title else (about[0] if len(about) == 1 else None)
    item.only_named = list(dict.fromkeys([*in_title, *counts]))
    title_kinds = [t.kind for t in triggers(title, passages[0].citation.date,
                                            tuple((m.start, m.end) for m in item.title_mentions))] if separate else []
    events: list[tuple[str, Trigger, _Sentence]] = []
    for i, s in enumerate(sentences):
        if _RETROSPECTIVE.match(s.text):
            continue
        if _DRAFT_SUBJECT.match(s.text):  # "The draft outlines …": the draft reported before, or nothing
            drafts = [k for k, t, _s in events if t.kind == "draft"]
            s.mentions = [m for m in s.mentions if drafts and m.key == drafts[-1]]
        trig = triggers(s.text, s.passage.citation.date, tuple((m.start, m.end) for m in s.mentions))
        if i > 0:  # "clarifies" is news in a headline; in the body it describes ("the amendments clarify …")
            trig = [t for t in trig if not s.text[t.start:t.end].lower().startswith("clarif")]
        if i == 0 and not trig and title_kinds and {m.key for m in s.mentions} & set(in_title):
            # "Bermuda Clarifies … Under PIPA" over "PrivCom has published a blog … under the PIPA 2016 (PIPA)"
            trig = [Trigger(k, 0, 0) for k in dict.fromkeys(title_kinds)]
        bold = _BOLD_HEADLINE.match(s.text) if i == 0 else None
        if bold and trig and all(t.end <= bold.end(1) for t in trig):
            s.quote = (s.start + bold.start(1), s.start + bold.end(1))
        events += _sentence_events(s, i, trig, item, sentences[:i], table)
    about_keys, item_events = _finish(about, events, item_date(passages))
    reading = ItemReading(about_keys, item_events)
    for s in sentences:
        for m in s.mentions:
            reading.first_named.setdefault(m.key, (s.passage, s.start, s.end))
    for m in [*item.title_mentions, *(m for s in sentences for m in s.mentions)]:
        if m.key not in table.instruments:
            names = reading.names.setdefault(m.key, [])
            if m.surface not in names:
                names.append(m.surface)
    return reading


def _sentence_events(s: _Sentence, i: int, trig: list[Trigger], item: _Item, before: list[_Sentence],
                     table: InstrumentTable) -> list[tuple[str, Trigger, _Sentence]]:
    """(key, trigger, sentence) for each event one sentence states."""
    out: list[tuple[str, Trigger, _Sentence]] = []
    named = s.named()
    target, kinds = (None, None) if named else _unnamed_target(s, i, trig, item, before, table)
    pending_bill = bool(_BILL_WORD.search(s.text) or any(m.method == "bill" or m.surface.endswith("Bill")
                                                       for m in s.mentions)) and not _ENACTED.search(s.text)
    for t in trig:
        if named:
            keys = _candidates(s, t, s.text[t.start:t.end])
        else:
            keys = [target] if target and (kinds is None or t.kind in kinds) else []
        for k in keys:
            kind = t.kind
            if kind == "amended" and pending_bill:
                if _is_bill(k, s) and _AMEND_WORD.match(s.text, t.start):
                    continue  # "SB 297 that amends the MTCDPA": the bill amends, it is not amended
                kind = "draft" if not _is_bill(k, s) else kind
            surface = next((m.surface for m in s.mentions if m.key == k), table.name_of(k))
            if _CODE.search(surface) or _CODE.search(table.name_of(k)):
                parent = _parent(s, k, item)
                if parent and kind in ("draft", "adopted", "guidance"):
                    out.append((parent, Trigger("guidance", t.start, t.end, t.date), s))
                if kind == "guidance":
                    continue  # a code's guidance words are its Act's guidance, not a stage of the code
            out.append((k, Trigger(kind, t.start, t.end, t.date, t.relative, t.planned), s))
    return out


def _finish(about: list[str], events: list[tuple[str, Trigger, _Sentence]],
            field_date: str | None) -> tuple[tuple[str, ...], list[ItemEvent]]:
    """Dates from the item (one date stated for the same instrument and kind; the ``Date:`` field), one
    event per (sentence, key, kind, date), and the keys of the events added to ``about``."""
    stated: dict[tuple[str, str], set[str]] = {}
    for k, t, _s in events:
        if t.date and not t.planned:
            stated.setdefault((k, t.kind), set()).add(t.date)
    out: list[ItemEvent] = []
    seen: set[tuple] = set()
    for k, t, s in events:
        date = t.date
        if date is None and not t.relative:
            one = stated.get((k, t.kind), set())
            if len(one) == 1:
                date = next(iter(one))
            elif t.kind not in ("in_force", "deadline") and not one:
                date = field_date
        mark = (s.passage.citation.char_start, s.start, k, t.kind, date)
        if mark in seen:
            continue
        seen.add(mark)
        start, end = s.quote or (s.start, s.end)
        out.append(ItemEvent(k, t.kind, date, s.passage, start, end))
        if k not in about:
            about.append(k)
    # an undated event of a kind the same sentence also states with a date is that event
    dated = {(e.passage.citation.char_start, e.start, e.key, e.kind) for e in out if e.date}
    out = [e for e in out if e.date or (e.passage.citation.char_start, e.start, e.key, e.kind) not in dated]
    return tuple(about), out
