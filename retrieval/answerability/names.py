"""The corpus's own knowledge of names: its vocabulary, which words are generic, and what each bulletin defines.

A question names things in forms the item may not use: in lower case ("clearview"), by an acronym the
bulletin defines elsewhere ("Binding Operational Directive (BOD)"), by a typo, or by a class word that
is no name at all ("the DPA", "the Act"). :class:`Lexicon` holds, for one index generation, what tells
these apart — statistics of the corpus itself, no hand lists:

- **vocabulary**: every word of every passage, heading, title and link, with the number of bulletins
  it occurs in, and how often it is written in lower case;
- **generic words**: a word that heads capitalised names with many different modifiers ("Dutch DPA",
  "Spanish DPA", "Latvian DPA"; "AI Act", "Data Act", "Privacy Act") is a class of things, not one;
- **definitions**: "Long Name (ACR)", "ACR (Long Name)" and "Long Name (Other Name, or ACR)" in a
  bulletin make the forms one name within that bulletin (and corpus-wide when no bulletin defines the
  form otherwise);
- **the alias table**: the forms of each instrument (given by the search, which reads the table);
- **typos**: an unknown word within one edit (two for words of 8+ letters) of a corpus word is that word.

Whether a word unknown to the corpus is an ordinary English word or a name comes from its frequency
in general English (``wordfreq``: Zipf scale, log10 of occurrences per billion words): below
:data:`RARE_ZIPF`, and absent from the bulletins, it is a name ("criteo", "clearview", "heise").

:func:`fold` is the one normalisation every mention check uses (case, accents, apostrophes, dashes
and whitespace), so that the verdict and the reply's invariants agree on what a quote contains.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

#: Below this general-English frequency (Zipf: 1.0 = once per billion words, 3.0 = once per million) a
#: word the bulletins never use is a name. Names measured: criteo 1.4, heise 1.9, clearview 2.1; ordinary
#: words: meds 3.6, spreadsheet 3.3, watchdogs 2.6 — the ordinary words the bulletins lack are the risk.
RARE_ZIPF = 2.5
#: A word of the question this long or longer that begins a corpus word is a clipped form of it, not a name
#: ("spec" for "specification"; was 5 before seed-09 "annex B of the draft app data collection spec").
CLIPPED_MIN = 4
#: At or above this general-English frequency (Zipf 5: once per 100,000 words: "us", "it", "may") a word
#: typed in lower case is the common word, never a name.
COMMON_ZIPF = 5.0
#: Words in capitals each at least this common in English ("TAKE IT DOWN") are one name, not acronyms.
ORDINARY_ZIPF = 4.0
#: Below this general-English frequency a word the corpus writes only with a capital is a name even
#: typed in lower case ("acea" 1.6, "santander" 3.1; "transferring" 3.7 is a word of a title-case heading).
NAME_ZIPF = 3.5
#: A word heading capitalised names with at least this many different modifiers is generic ("Dutch DPA").
GENERIC_MODIFIERS = 3
#: ... and written as such a head at least this share of the times it occurs capitalised.
GENERIC_HEAD_SHARE = 0.3
#: A question word the corpus writes in lower case at least this often is an ordinary word when the
#: question writes it in lower case too ("designate us" is not the US).
LOWER_USES = 3

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_CAP_RUN = re.compile(r"(?:[A-Z][\w’'.&-]*|\d[\w.]*)(?:[ ](?:(?:of|and|for|the|on|in|de|du|von|&|to)[ ])*"
                      r"(?:[A-Z][\w’'.&-]*|\d[\w.]*)){0,9}")
_PAREN = re.compile(r"\(([^()\n]{1,120})\)")
_ALT_SPLIT = re.compile(r"\s*(?:,\s*or\s+|\s+or\s+|;\s*|,\s*(?:the\s+)?|/)\s*")
_SMALL = frozenset("of and for the on in de du von & to".split())
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+\.(?:com|org|net|gov|eu|uk|de|fr|nl|pdf|html?)\S*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;*\n(\[\"“-]|\s-|\s–)\s*$")


def fold(text: str) -> str:
    """Text for mention checks: accents removed, case folded, apostrophes straight, dashes and runs of
    whitespace one space ("Türkiye" → "turkiye", "Take-It-Down" → "take it down")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"[\-‐‑‒–—_]+", " ", text)
    return " ".join(text.split())


def words_of(folded: str) -> set[str]:
    """The words of a folded text, with possessive forms also without their "'s"."""
    found = re.findall(r"[^\W_]+(?:'[^\W_]+)?", folded)
    return set(found) | {w[:-2] for w in found if w.endswith("'s")} | {w.replace("'", "") for w in found if "'" in w}


def strip_clitic(word: str) -> str:
    """A question word without its possessive or contraction ("commission's" → "commission", "don't" → "do")."""
    w = word.replace("’", "'")
    for tail in ("'s", "n't", "'ve", "'re", "'ll", "'d", "'m", "s'"):
        if w.lower().endswith(tail) and len(w) > len(tail) + 1:
            return w[: -len(tail)] + ("s" if tail == "s'" else "")
    return w


@functools.lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """The word's frequency in general English on the Zipf scale (0 when wordfreq does not know it)."""
    from wordfreq import zipf_frequency  # imported on first use: its tables load in ~0.3 s
    return float(zipf_frequency(word, "en"))


@dataclass
class Lexicon:
    """Corpus statistics of one index generation (see module doc). Build with :meth:`build`.

    Attributes:
        bulletin_df: word (folded) -> number of bulletins holding it.
        lower_uses: word -> times written all in lower case away from a sentence start.
        head_modifiers: word -> distinct capitalised words seen right before it inside a name.
        capital_uses: word -> times written with a capital away from a sentence start.
        definitions: source file -> {folded form: folded forms it defines or is defined as}.
        corpus_definitions: folded form -> forms, from every bulletin (forms defined two ways are left out).
        n_bulletins: bulletins seen.
    """

    bulletin_df: Counter = field(default_factory=Counter)
    lower_uses: Counter = field(default_factory=Counter)
    capital_uses: Counter = field(default_factory=Counter)
    head_modifiers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    head_uses: Counter = field(default_factory=Counter)
    definitions: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    corpus_definitions: dict[str, set[str]] = field(default_factory=dict)
    n_bulletins: int = 0
    instruments: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def instrument_forms(self, form: str) -> tuple[str, ...]:
        """The other forms of the instrument the alias table knows by ``form`` (folded), or ()."""
        return self.instruments.get(form, ())

    @classmethod
    def build(cls, bulletins: Iterable[tuple[str, str]],
              instruments: dict[str, tuple[str, ...]] | None = None) -> "Lexicon":
        """Statistics over (source file, all text of that bulletin: headings, passages, links) pairs;
        ``instruments``: the alias table's forms (:func:`instrument_table_forms`)."""
        out = cls(instruments=dict(instruments or {}))
        by_form: dict[str, set[str]] = defaultdict(set)
        for source, text in bulletins:
            out.n_bulletins += 1
            out.bulletin_df.update(words_of(fold(text)))
            out._count_case(text)
            defs = out.definitions.setdefault(source, {})
            for a, b in find_definitions(text):
                defs.setdefault(a, set()).add(b)
                defs.setdefault(b, set()).add(a)
            for a, forms in defs.items():
                by_form[a] |= forms
        out.corpus_definitions = {a: fs for a, fs in by_form.items() if len(fs) <= 3}
        return out

    def _count_case(self, text: str) -> None:
        text = _URL.sub(" ", text)  # "gov.uk/…" writes no word in lower case
        prev_cap = ""
        pos = 0
        for m in _TOKEN.finditer(text):
            w = m.group(0)
            between = text[pos:m.start()]
            pos = m.end()
            low = fold(strip_clitic(w))
            at_start = bool(_SENTENCE_START.search(text[max(0, m.start() - 3):m.start()])) or m.start() == 0
            if w.islower():
                if not at_start:
                    self.lower_uses[low] += 1
                prev_cap = "" if low not in _SMALL else prev_cap
                continue
            if not w[0].isupper():
                prev_cap = ""
                continue
            if not at_start:
                self.capital_uses[low] += 1
            if prev_cap and between == " " and prev_cap != low:
                self.head_modifiers[low].add(prev_cap)
                self.head_uses[low] += 1
            # "The UK", "In May": a function word is no modifier of a name
            prev_cap = low if low not in _SMALL and zipf(low) < 6.0 else ""

    def known(self, word: str) -> bool:
        """True when the corpus holds the (folded) word."""
        return word in self.bulletin_df

    @functools.cached_property
    def _sorted_vocabulary(self) -> list[str]:
        return sorted(self.bulletin_df)

    @functools.cached_property
    def _stems(self) -> frozenset[str]:
        import Stemmer  # PyStemmer, as BM25 uses it
        words = [w for w in self.bulletin_df if w.isalpha()]
        return frozenset(Stemmer.Stemmer("english").stemWords(words))

    def known_like(self, word: str) -> bool:
        """True when the corpus holds the word or another form of it: the same Snowball stem
        ("watchdogs" ~ "watchdog", "misusing" ~ "misused"), or a word it begins, clipped to 4+ letters
        ("insta" ~ "instagram", "spec" ~ "specification")."""
        if word in self.bulletin_df:
            return True
        if word.isalpha():
            import Stemmer
            if Stemmer.Stemmer("english").stemWord(word) in self._stems:
                return True
        if len(word) < CLIPPED_MIN:
            return False
        vocab = self._sorted_vocabulary
        i = bisect.bisect_left(vocab, word)
        return i < len(vocab) and vocab[i].startswith(word)

    def generic(self, word: str) -> bool:
        """True when the word heads capitalised names with many modifiers: a class of things ("DPA", "Act")."""
        mods = self.head_modifiers.get(word, ())
        caps = self.capital_uses.get(word, 0)
        return len(mods) >= GENERIC_MODIFIERS and caps > 0 and self.head_uses[word] / caps >= GENERIC_HEAD_SHARE

    def capitalised_name(self, word: str) -> bool:
        """True when the corpus writes the word with a capital and never in lower case (away from sentence
        starts), and it is rare in general English (NAME_ZIPF): a name however the question types it."""
        return self.capital_uses.get(word, 0) >= 1 and not self.lower_uses.get(word, 0) and zipf(word) < NAME_ZIPF

    def ordinary_lower(self, word: str) -> bool:
        """True when the corpus writes the word in lower case often (LOWER_USES): a common word when typed so."""
        return self.lower_uses.get(word, 0) >= LOWER_USES

    def defined_forms(self, form: str, source_file: str | None = None) -> set[str]:
        """The forms a bulletin (else the corpus) defines as the same name as ``form`` (folded)."""
        if source_file is not None:
            found = self.definitions.get(source_file, {}).get(form)
            if found:
                return set(found)
        return set(self.corpus_definitions.get(form, ()))

    @functools.cached_property
    def _vocabulary_list(self) -> list[str]:
        return [w for w in self.bulletin_df if len(w) >= 3 and w.isalpha()]

    def correct(self, word: str) -> str | None:
        """The corpus word an unknown word is a typo of (one edit; two for 8+ letters; 4+ letters only), or None."""
        if len(word) < 4 or not word.isalpha() or self.known(word):
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
        limit = 2 if len(word) >= 8 else 1
        best = process.extractOne(word, self._vocabulary_list, scorer=Levenshtein.distance, score_cutoff=limit)
        return best[0] if best else None

    def rare_name(self, word: str) -> bool:
        """True for a word the corpus never holds (nor a typo of one) and rare in general English: a name."""
        return not self.known_like(word) and self.correct(word) is None and word.isalpha() and zipf(word) < RARE_ZIPF


def instrument_table_forms(instruments: Iterable) -> dict[str, tuple[str, ...]]:
    """Folded form -> every folded form of the same instrument, for :attr:`Lexicon.instruments`, from
    instruments with ``name`` and ``forms`` (the alias table, retrieval/instruments/instruments.toml)."""
    out: dict[str, tuple[str, ...]] = {}
    for inst in instruments:
        forms = tuple(dict.fromkeys(fold(f) for f in (inst.name, *inst.forms)))
        for f in forms:
            out.setdefault(f, forms)
    return out


def find_definitions(text: str) -> list[tuple[str, str]]:
    """(form, form) pairs a text defines as one name, folded: "Binding Operational Directive (BOD)",
    "BOD (Binding Operational Directive)", "Cookie Consent Management Ordinance (Einwilligungsverwaltungs-
    verordnung, or EinwV)". A parenthesised acronym must spell initials of the name before it; a
    parenthesised word after a name is another name of it only when it is capitalised."""
    out = []
    for m in _PAREN.finditer(text):
        inside = m.group(1).strip().strip("“”\"'")
        before = text[max(0, m.start() - 200):m.start()].rstrip()
        runs = list(_CAP_RUN.finditer(before))
        name = _bare(runs[-1].group(0)) if runs and runs[-1].end() == len(before) else ""
        alternatives = [a.strip("“”\"' ") for a in _ALT_SPLIT.split(inside) if a.strip("“”\"' ")]
        if name:
            for alt in alternatives:
                if not alt[:1].isupper() or len(alt.split()) > 8 or re.search(r"\d{4}|[€$£%]", alt):
                    continue
                named = name
                if len(alt.split()) == 1 and sum(c.isupper() for c in alt) >= 2 and not spells(alt, name):
                    # an acronym that spells the end of the run ("On Monday the Cyberspace Administration of
                    # China (CAC)"); one that spells nothing (a German "TDDDG") names the whole run
                    named = _tail_spelled(alt, name) or name
                if len(named.split()) >= 2 or len(alt.split()) >= 2:
                    out.append((fold(named), fold(alt)))
        # "BOD (Binding Operational Directive)": an acronym before a name it spells
        prev = re.search(r"\b([A-Z][A-Za-z0-9&]{1,11})\s*$", before)
        if prev and prev.group(1).isupper() and spells(prev.group(1), inside) and len(inside.split()) <= 10:
            out.append((fold(prev.group(1)), fold(inside)))
    return out


def _bare(name: str) -> str:
    """A name without leading articles and possessives ("The Germany’s Cookie Consent …" → "Cookie Consent …")."""
    words = name.split()
    while len(words) > 1 and (words[0].lower() in ("the", "a", "an", "on", "in") or re.search(r"[’']s$", words[0])):
        words = words[1:]
    return " ".join(words)


def spells(acronym: str, name: str) -> bool:
    """True when acronym's letters are the initials of name's words in order, small words optional
    ("BOD" ← "Binding Operational Directive", "CAC" ← "Cyberspace Administration of China")."""
    letters = [c.lower() for c in acronym if c.isalpha()]
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", name)]
    if len(letters) < 2 or not words:
        return False
    initials = [w[0].lower() for w in words]
    small = [w.lower() in _SMALL for w in words]
    # every non-small word must give the next letter; small words may or may not
    i = 0
    for ini, sm in zip(initials, small):
        if i < len(letters) and ini == letters[i]:
            i += 1
        elif not sm:
            return False
    return i == len(letters)


def _tail_spelled(acronym: str, name: str) -> str | None:
    """The shortest tail of name's words that acronym spells, or None."""
    words = name.split()
    for k in range(len(words) - 1, -1, -1):
        tail = " ".join(words[k:])
        if words[k].lower() not in _SMALL and spells(acronym, tail):
            return tail
    return None
