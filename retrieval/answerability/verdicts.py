"""Does a quote state what the question asks? Answerability, not topicality.

A hit can be on the question's topic without answering it: "how much did the Dutch DPA fine
Clearview AI?" finds an item about a Spanish fine. :func:`judge` decides per item, from two checks
measured on the dev question sets (figures in docs/retrieval.md):

1. **The asked slot is filled** (:mod:`retrieval.answerability.slots`): a money question needs an amount in the
   item, a "when does it take effect" question a date next to words of taking effect, a "how many
   internet users" question a number in a sentence about users, a "which company" question a
   company name the question does not already give.
2. **The question's named things are in the item**: countries and nationalities (with a small
   alias table: "dutch" → Netherlands), organisations, companies and instruments — words written
   with a capital in the question, or nearly always capitalised in the corpus (so lower-case
   "tiktok" counts), and acronyms, which also match their expansion ("PBOC" → "People's Bank of
   China"). Words with digits are left to the slot check.

:class:`Verdict` says which check failed, so the reply can say "No passage states <the asked thing>".
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from .casing import CaseProfile
from .gazetteer import ALIASES, COUNTRIES
from .gazetteer import NOT_ENTITIES as _NOT_ENTITIES
from .names import COMMON_ZIPF, ORDINARY_ZIPF, Lexicon, fold, strip_clitic, words_of, zipf
from .slots import ORG_WORDS, Slot, asked_slots, asserted_amounts, event_window, fillers, question_values

_WORD = re.compile(r"[A-Za-z][A-Za-z'’&-]*[A-Za-z]|[A-Za-z]")
_CAP_SEQ = re.compile(r"[A-Z][\w&'’.-]*(?:,? (?:of |and |for |the |de |du |von |& )*[A-Z][\w&'’.-]*)*")
_SMALL = frozenset("of and for the de du von &".split())
#: Two or more words in capitals ("TAKE IT DOWN"), or capitalised, in a row: read as one name when each is ordinary.
_CAPS_PHRASE = re.compile(r"\b[A-Z]{2,}(?:[ -][A-Z]{2,})+\b")


#: Characters of a question read for its slots and named things.
MAX_QUESTION_CHARS = 1000
@dataclass(frozen=True)
class Entity:
    """A named thing of the question: ``word`` as asked (lower-cased) and the forms that count as it."""

    word: str
    forms: tuple[str, ...]
    acronym: bool = False

    @property
    def party(self) -> bool:
        """True for an organisation, company, person or instrument; False for a place or people (a country,
        a demonym), and for a one- or two-letter word: those need not stand beside the asked fact."""
        return len(self.word) > 2 and self.word not in ALIASES and self.word not in COUNTRIES


@dataclass(frozen=True)
class Question:
    """What a question asks: its slots, named things, the values it gives and its content words (stemmed)."""

    text: str
    slots: tuple[Slot, ...]
    entities: tuple[Entity, ...]
    given: frozenset[float]
    terms: frozenset[str]
    ask_terms: frozenset[str]
    asserted: frozenset[float] = frozenset()

    @property
    def specific(self) -> bool:
        """True when the question asks a slot or names things, so that a verdict says something."""
        return bool(self.slots or self.entities)


@dataclass(frozen=True)
class Verdict:
    """Whether an item states what the question asks.

    Attributes:
        answers: True when every asked slot is filled and every named thing is in the item.
        missing: the asked thing no passage states ("the amount asked", "“google”"), or None.
        filler: (passage index, start, end) of the text that fills the first slot, within the
            item's passage texts as given to :func:`judge`, or None.
    """

    answers: bool
    missing: str | None = None
    filler: tuple[int, int, int] | None = None


def analyse(question: str, tokenize: Callable[[str], list[str]], casing: CaseProfile,
            lexicon: Lexicon | None = None) -> Question:
    """Read a question's slots, named things, given values and content terms (see module doc).

    ``lexicon`` (the generation's corpus statistics, :class:`retrieval.answerability.names.Lexicon`) lets a word the
    corpus never uses count as a name in any case, a typo count as the word it misspells, and a class
    word ("DPA", "Act") count as no name; without it only capitals and the case profile are read."""
    question = question[:MAX_QUESTION_CHARS]  # a Slack message can be 40k characters; questions are short
    slots = tuple(asked_slots(question))
    entities: list[Entity] = []
    seen: set[str] = set()
    phrase_words: set[int] = set()
    for m in _CAPS_PHRASE.finditer(question):  # "TAKE IT DOWN act": one name of ordinary words
        ws = m.group(0).split()
        if lexicon is not None and len(ws) >= 2 and all(zipf(fold(w)) >= ORDINARY_ZIPF for w in ws):
            entities.append(Entity(fold(m.group(0)), (fold(m.group(0)),)))
            phrase_words.update(range(m.start(), m.end()))
    for i, m in enumerate(_WORD.finditer(question)):
        if m.start() in phrase_words:
            continue
        w = strip_clitic(m.group(0).strip("'’"))
        low = fold(w)
        if low in seen or low in _NOT_ENTITIES or len(low) < 2:
            continue
        if re.fullmatch(r"[A-Z]{2,}s", w):  # "AGs", "DPAs": a plural acronym
            w, low = w[:-1], low[:-1]
        # "GDPR", and mixed-case ones ("BfDI", "JMStV", "T&Cs"): two capitals or more in a short word
        acronym = (w.isupper() and len(w) >= 2) or (sum(c.isupper() for c in w) >= 2 and len(w) <= 8)
        written_cap = w[0].isupper() and i > 0 and not question[max(0, m.start() - 2):m.start()].strip(" ") in ("-", ":")
        instrument = lexicon.instrument_forms(low) if lexicon is not None else ()
        forms = (low, *ALIASES.get(low, ()), *instrument) + ((low + "s",) if acronym else ())
        if lexicon is None:
            if acronym and low not in casing and low not in ALIASES:
                continue  # an acronym the bulletins never use may be spelled out there: cannot be checked
            named = low in ALIASES or low in COUNTRIES or acronym or written_cap or casing.capitalised(low)
        elif w.islower() and zipf(low) >= COMMON_ZIPF and lexicon.lower_uses.get(low, 0) and low not in COUNTRIES:
            named = False  # "designate us", "it": a very common English word typed in lower case names nothing
        elif low in ALIASES or low in COUNTRIES:
            # "us" typed in lower case, where the corpus also writes "us", is the pronoun
            named = not (w.islower() and lexicon.ordinary_lower(low) and low not in COUNTRIES)
        elif lexicon.generic(low):
            named = False  # "the DPA", "the Act": a class of things the item may name otherwise
        elif acronym and not lexicon.known_like(low):
            named = False  # an acronym the bulletins never use may be spelled out there ("CNNIC"): cannot be checked
        elif acronym or written_cap or casing.capitalised(low) or lexicon.capitalised_name(low):
            named = True
            fixed = lexicon.correct(low) if not lexicon.known_like(low) else None
            if fixed:
                forms = (low, fixed)
        elif lexicon.known_like(low):
            named = False  # an ordinary word of the corpus, in lower case
        else:
            fixed = lexicon.correct(low)
            if fixed:  # a typo: a name if the corpus writes the word it misspells as one
                named, forms = casing.capitalised(fixed) or lexicon.capitalised_name(fixed), (fixed,)
            else:
                named = lexicon.rare_name(low)
        if named:
            seen.add(low)
            entities.append(Entity(low, tuple(dict.fromkeys(forms)), acronym))
    # "australia 2024 breaches - what percentage came from…": the part after the topic is what is asked
    parts = re.split(r"\s[-–—:]\s", question)
    ask, topic = parts[-1], " ".join(parts[:-1])
    # a value in the topic ("the 310m fine - how much was for consent?") names the case and is not the
    # answer; an amount in the asked part ("was it fined 500m?") is what the item must confirm
    asserted = asserted_amounts(ask) if any(s.kind == "money" for s in slots) else set()
    given = question_values(topic) | (question_values(ask) - asserted)
    return Question(question, slots, tuple(entities), frozenset(given), frozenset(tokenize(question)),
                    frozenset(tokenize(ask)), frozenset(asserted))


@functools.lru_cache(maxsize=4096)  # an item's text is judged again for every question it comes up for
def _vocabulary(whole: str) -> tuple[str, "_Words"]:
    """(lower-cased text, its words) for the named-thing check."""
    folded = fold(whole)
    return folded, _Words(words_of(folded))


class _Words(frozenset):
    """A text's words, with a sorted copy for prefix look-ups."""

    def __new__(cls, words: Iterable[str]) -> "_Words":
        out = super().__new__(cls, words)
        out.ordered = sorted(out)  # type: ignore[attr-defined]
        return out

    def has_prefix(self, prefix: str) -> bool:
        """True when a word starts with prefix."""
        i = bisect.bisect_left(self.ordered, prefix)  # type: ignore[attr-defined]
        return i < len(self.ordered) and self.ordered[i].startswith(prefix)  # type: ignore[attr-defined]


def _has_form(form: str, words: "_Words", text_lower: str) -> bool:
    if "." in form or "/" in form:
        return form in text_lower
    if " " in form:
        return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text_lower) is not None
    if form in words:
        return True
    # a word that extends the form ("german" → "germany"), or a form at most 2 letters longer than a word
    return len(form) >= 4 and (words.has_prefix(form) or any(form[:n] in words for n in range(max(4, len(form) - 2),
                                                                                            len(form))))


def _acronym_in(acronym: str, text: str) -> bool:
    """True when a run of words in text has acronym's letters as initials (small words optional):
    "Cyberspace Administration of China" spells CAC, "Cybersecurity Act (CSA)" does not — a word in
    capitals is an acronym of its own, and a one-letter word ("a", "A") spells nothing."""
    target = acronym.lower()
    words = re.findall(r"[A-Za-z][\w'’-]*", text)
    initials = [w[0].lower() if len(w) > 1 and not w.isupper() else "" for w in words]
    small = [w.lower() in _SMALL for w in words]
    n = len(words)
    for start in range(n):
        if initials[start] != target[0] or small[start]:
            continue
        j, k = start, 0
        while j < n and k < len(target):
            if initials[j] == target[k]:
                j, k = j + 1, k + 1
            elif small[j]:
                j += 1
            else:
                break
        if k == len(target):
            return True
    return False


def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    from retrieval.chunking import sentence_spans  # cached: passages repeat across queries
    return sentence_spans(text)


_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>]+")
#: An item whose passages hold fewer words than this outside links (a "Sources" list) answers nothing.
MIN_PROSE_WORDS = 2
#: What such an item lacks, as the "related" headline says it: "No passage states anything but links".
LINKS_ONLY = "anything but links"


def links_only(text: str) -> bool:
    """True when text holds fewer than MIN_PROSE_WORDS words outside its links (a "Sources" list): such
    a quote states nothing, whatever words its URLs hold, and answers no question."""
    return len(re.findall(r"[^\W\d_]{2,}", _URL.sub(" ", text))) < MIN_PROSE_WORDS


def mentions(entity: Entity, folded: str, words: "_Words", raw: str, defined: Iterable[str] = ()) -> bool:
    """True when a text names the entity: one of its forms (or a form the bulletin defines as the same
    name) as a word or phrase of the folded text, or, for an acronym, a run of words spelling it in
    the raw text. The one mention test: the verdict and the reply's invariants both use it."""
    if any(_has_form(f, words, folded) for f in (*entity.forms, *defined)):
        return True
    return entity.acronym and _acronym_in(entity.word, raw)


def judge(question: Question, texts: Sequence[str], context: str, tokenize: Callable[[str], list[str]],
          scope: str = "", order: Sequence[int] | None = None, lexicon: Lexicon | None = None,
          source_file: str | None = None) -> Verdict:
    """Decide whether an item (its passage texts, in reading order, and its headings) answers question.

    Args:
        question: from :func:`analyse`.
        texts: the verbatim texts of the item's passages, in reading order.
        context: the item's headings and metadata (bulletin title, section, item title, publisher,
            link), searched for named things.
        tokenize: the lexical tokenizer (lower-case, stop words out, stemmed).
        scope: more text searched for named things only — for a paragraph outside any item, the
            rest of its section ("The Norwegian data protection authority…" above a list).
        order: the passage indices in the order to look for fillers (best-matching first);
            default reading order. The first filler found is the one quoted.
        lexicon, source_file: the generation's corpus statistics and the item's bulletin, for the
            names that bulletin defines ("Binding Operational Directive (BOD)").

    A named party (not a place) the headings do not give must stand in the paragraph that fills the
    slot or the one before it: "the TDDDG" named in passing three paragraphs on does not make the
    EinwV's date the TDDDG's.
    """
    whole = context + "\n" + "\n".join(texts) + "\n" + scope
    folded, words = _vocabulary(whole)
    head_folded, head_words = _vocabulary(context + "\n" + scope)
    loose: list[tuple[Entity, tuple[str, ...]]] = []  # named in the body only: must be near the filler
    for e in question.entities:
        defined = tuple(lexicon.defined_forms(e.word, source_file)) if lexicon is not None else ()
        if not mentions(e, folded, words, whole, defined):
            return Verdict(False, f"“{e.word}”")
        if e.party and not mentions(e, head_folded, head_words, context + "\n" + scope, defined):
            loose.append((e, defined))

    def anchored(p: int, s: int) -> bool:
        if not loose:
            return True
        near = "\n".join(texts[max(0, p - 1):p + 1])  # the filling paragraph, or the one before it
        f, w = _vocabulary(near)
        return all(mentions(e, f, w, near, d) for e, d in loose)

    first_filler = None
    for slot in question.slots:
        found = _find_filler(slot, question, texts, tokenize, order, anchored)
        if found is None:
            if loose and _find_filler(slot, question, texts, tokenize, order) is not None:
                return Verdict(False, f"{slot.label} for “{loose[0][0].word}”")
            return Verdict(False, slot.label)
        first_filler = first_filler or found
    return Verdict(True, None, first_filler)


def _find_filler(slot: Slot, question: Question, texts: Sequence[str], tokenize: Callable[[str], list[str]],
                 order: Sequence[int] | None = None,
                 anchored: Callable[[int, int], bool] | None = None) -> tuple[int, int, int] | None:
    """(passage index, start, end) of the text filling slot, or None.

    Passages are tried in ``order``; within the first passage that has a filler, the one whose
    sentence shares the most of the question's terms wins (ties: the earlier one).
    """
    window = event_window(slot)
    head_terms = set(tokenize(slot.head)) if slot.head else set()
    # a share is asked of what the question says after its topic; a name, of anything it says
    content = (question.ask_terms if slot.kind == "percent" else question.terms) - _SLOT_WORDS(tokenize)
    for p in (order if order is not None else range(len(texts))):
        text = texts[p]
        sentences = _sentences(text)
        names = slot.kind in ("person", "company", "org")
        spans = (list(_name_fillers(slot.kind, question, text, tokenize)) if names
                 else fillers(slot, text, question.given, question.asserted))
        best: tuple[int, int, int] | None = None
        best_overlap = -1
        for s, e in spans:
            if anchored is not None and not anchored(p, s):
                continue
            a, b = next(((a, b) for a, b in sentences if a <= s < b), (0, len(text)))
            sentence_terms = set(tokenize(text[a:b]))
            if names:
                if head_terms and not _shares(head_terms, sentence_terms):
                    continue
                if content and not _shares(content, sentence_terms):
                    continue
            else:
                if window is not None and not window.search(text[max(a, s - 60):s]):
                    continue
                if slot.kind == "count" and head_terms and not _shares(head_terms, set(tokenize(_words_after(text, e, 4)))):
                    continue
                if slot.kind == "percent" and content and not _shares(content, sentence_terms):
                    continue
            overlap = len(sentence_terms & question.terms)
            if overlap > best_overlap:
                best, best_overlap = (p, s, e), overlap
        if best is not None:
            return best
    return None


def _shares(wanted: AbstractSet[str], have: AbstractSet[str]) -> bool:
    """True when a wanted stem is in have, allowing one to be a prefix of the other (admin / administr, app / applic)."""
    return any(w in have or any(len(w) >= 3 and len(h) >= 3 and (h.startswith(w) or w.startswith(h)) for h in have)
               for w in wanted)


_SLOT_CACHE: dict[int, frozenset[str]] = {}


def _SLOT_WORDS(tokenize: Callable[[str], list[str]]) -> frozenset[str]:
    """Stems of the words that ask for a slot, which say nothing of what the answer is about."""
    key = id(tokenize)
    if key not in _SLOT_CACHE:
        _SLOT_CACHE[key] = frozenset(tokenize(
            "how much many percentage share proportion when date fine fines penalty penalties amount deadline name "
            "company companies who which what actual real exact full specific"))
    return _SLOT_CACHE[key]


def _words_after(text: str, end: int, n: int) -> str:
    """The n words of text after offset end."""
    return " ".join(text[end:end + 200].split()[:n])


def _name_fillers(kind: str, question: Question, text: str, tokenize: Callable[[str], list[str]]) -> Iterator[tuple[int, int]]:
    """Capitalised names in text that the question does not give (see module doc)."""
    q_terms = question.terms
    for m in _CAP_SEQ.finditer(text):
        if text[m.start() - 1:m.start()] == "(" and text[m.end():m.end() + 1] == ")":
            continue  # "(HmbBfDI)" abbreviates the name before it, which was judged itself
        before = text[max(0, m.start() - 3):m.start()]
        words = [w.strip(",.") for w in m.group(0).split() if w.strip(",.").lower() not in _SMALL]
        if (not before.strip() or re.search(r"[.!?:*\n(\[-]\s*$", before)) and len(words) == 1:
            continue  # one capitalised word at a sentence start is not a name
        fresh = [w for w in words if not _shares(set(tokenize(w)), q_terms) and w.lower() not in COUNTRIES
                 and w.lower() not in ALIASES and w.lower() not in _NOT_ENTITIES]
        if not fresh:
            continue
        lowered = {w.lower() for w in words}
        if kind == "org":
            yield m.start(), m.end()
        elif lowered & ORG_WORDS:
            continue
        elif kind == "company":
            yield m.start(), m.end()
        elif len(words) >= 2 and not any(w.isupper() for w in words):  # person: "Jane Doe", not an acronym
            yield m.start(), m.end()
