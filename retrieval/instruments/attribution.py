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
  of X, and no amendment of the bill; likewise an undated change an item reports of an instrument it
  reports as a draft ("The draft chapter … It revises the definition of privacy") is part of the draft.
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

from .events import Trigger, normalise_date, triggers
from .names import InstrumentTable, Mention
from .referents import ItemContext, Sentence, candidates, code_parent, unnamed_target

#: An amendment already made ("has been amended"), not one an item reports of a draft.
_DONE_AMENDMENT = re.compile(r"\b(?:was|were|has been|have been|had been)\s+(?:\w+\s+)?amended\b", re.I)
#: A bill that is law: only then does "amends X" amend X.
_ENACTED = re.compile(r"\b(?:signed into law|enacted|became law|signed by the governor)\b", re.I)
_BILL_WORD = re.compile(r"\b(?:bill|Bill)\b")
_AMEND_WORD = re.compile(r"\bamend", re.I)
#: A bill that would create the Act named after it: "LB504 aimed at adopting the … Act".
_BILL_ADOPTS = re.compile(r"\s+(?:\w+\s+){0,2}(?:adopting|enacting|establishing|creating|to adopt|to enact|as)\s+(?:the\s+)?$")
#: The bulletin's own earlier coverage: "We covered the new timelines … in our last update".
_RETROSPECTIVE = re.compile(r"^\W*We\s+(?:covered|reported|discussed|wrote|noted)\b")
#: A sentence whose subject is a draft already reported: "The draft outlines …", "The draft chapter …".
_DRAFT_SUBJECT = re.compile(r"^\W*(?:The|This|That)\s+(?:(?:new|revised|final|third|second|first)\s+)?(?:draft|proposal)\b")
#: A code of practice's name: its steps are guidance of the instrument it sits under.
_CODE = re.compile(r"\bCodes?(?: of Practice)?$", re.I)
#: A paragraph's label: "KRITIS Umbrella Law: A KRITIS umbrella law …".
_LABEL = re.compile(r"^\W*([^:.!?]{3,80}):\s")
#: Words left out of a name's core words (joiners, instrument nouns) when names of one item are compared.
_CORE_DROP = frozenset("of on for and the to in & act law bill regulation regulations directive ordinance measures "
                       "treaty agreement code codes practice rule rules".split())
#: An item's "Date: April 24, 2025" field, in its passages' context.
_DATE_FIELD = re.compile(r"^Date:\s*(.+?)\W*$", re.MULTILINE)
#: A bold headline opening an item's first sentence: quoted alone when it states every event.
_BOLD_HEADLINE = re.compile(r"\W{0,12}?\*\*(.+?)\*\*")


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


def _sentences(passages: list[Passage], table: InstrumentTable, context: str) -> list[Sentence]:
    out = []
    for p in passages:
        for s, e in sentence_spans(p.text):
            while s < e and (p.text[s] in "-•–·#> \t" or p.text[s:s + 2] == "* "):
                s += 1
            if s < e:
                text = p.text[s:e]
                out.append(Sentence(p, s, e, text, table.find_mentions(text, context)))
    return out


def _merge_map(item: ItemContext, table: InstrumentTable) -> dict[str, str]:
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


def _is_bill(key: str, s: Sentence) -> bool:
    return any(m.key == key and (m.method == "bill" or m.surface.endswith("Bill")) for m in s.mentions)


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
    item = ItemContext(sentences, table.find_mentions(title, context) if title else [], separate)
    merge = _merge_map(item, table)
    for ms in [item.title_mentions, *(s.mentions for s in sentences)]:
        ms[:] = [Mention(merge.get(m.key, m.key), m.start, m.end, m.surface, m.method, m.name) for m in ms]
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
    events: list[tuple[str, Trigger, Sentence]] = []
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
            for written in (m.name, m.surface):
                if written and written not in names:
                    names.append(written)
    return reading


def _sentence_events(s: Sentence, i: int, trig: list[Trigger], item: ItemContext, before: list[Sentence],
                     table: InstrumentTable) -> list[tuple[str, Trigger, Sentence]]:
    """(key, trigger, sentence) for each event one sentence states."""
    out: list[tuple[str, Trigger, Sentence]] = []
    named = s.named()
    target, kinds = (None, None) if named else unnamed_target(s, i, trig, item, before, table)
    pending_bill = bool(_BILL_WORD.search(s.text) or any(m.method == "bill" or m.surface.endswith("Bill")
                                                       for m in s.mentions)) and not _ENACTED.search(s.text)
    for t in trig:
        if named:
            keys = candidates(s, t, s.text[t.start:t.end])
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
                parent = code_parent(s, k, item)
                if parent and kind in ("draft", "adopted", "guidance"):
                    out.append((parent, Trigger("guidance", t.start, t.end, t.date), s))
                if kind == "guidance":
                    continue  # a code's guidance words are its Act's guidance, not a stage of the code
            out.append((k, Trigger(kind, t.start, t.end, t.date, t.relative, t.planned), s))
    return out


def _finish(about: list[str], events: list[tuple[str, Trigger, Sentence]],
            field_date: str | None) -> tuple[tuple[str, ...], list[ItemEvent]]:
    """Dates from the item (one date stated for the same instrument and kind; the ``Date:`` field), one
    event per (sentence, key, kind, date), and the keys of the events added to ``about``."""
    drafted = {k for k, t, _s in events if t.kind == "draft"}
    events = [(k, Trigger("draft", t.start, t.end, t.date, t.relative, t.planned), s)
              if t.kind == "amended" and k in drafted and not t.date and not _DONE_AMENDMENT.search(s.text)
              else (k, t, s) for k, t, s in events]  # a change an item reports of a draft is part of the draft
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
