"""Which legal instruments a text names: the alias table, official numbers, "X (the Y)" definitions, names.

An *instrument* is a law, regulation, directive, bill, framework, standard or decision a bulletin
reports on. :func:`find_mentions` returns every span of a text that names one, resolved to one
instrument key, by four methods (measured on a hand-checked sample in docs/instruments.md):

1. the maintained alias table ``retrieval/instruments/instruments.toml`` (names, acronyms, official numbers),
   matched case-sensitively as whole words — "Data Privacy Framework" is the EU-U.S. instrument,
   but not inside "Federal Data Privacy Framework", whose capitalised first word makes it another;
2. official numbers not in the table (``Regulation (EU) 2025/302``, ``Directive 2002/58/EC``,
   ``GB/T 35273``, ``NIST SP 800-172 Rev. 3``), each its own instrument (a NIST SP's revisions are one);
3. the corpus's own definitions, ``Oregon Consumer Privacy Act (OCPA)`` or ``… Act (the “BSI-Act”)``:
   the acronym becomes an alias of the name (:meth:`InstrumentTable.learn_definitions`);
4. other capitalised names of three or more words ending in Act, Law, Regulation, Directive, Bill, Treaty,
   Ordinance or Measures, with headline words ("Fines", "Under") cut off their front.

Pure functions over strings; imports nothing from the rest of ``retrieval`` but the TOML path.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found]


#: Longest instrument key (a longer name's slug is cut and given a digest suffix).
MAX_KEY = 80
#: The maintained alias table (see its header for the format).
TABLE_FILE = Path(__file__).with_name("instruments.toml")

_NOUNS = r"(?:Act|Law|Regulations?|Directive|Bill|Ordinance|Measures|Treaty)"
#: Capitalised words (and the lower-case joiners allowed inside a name) of a generic instrument name.
_CAP = r"(?:[A-Z][\w’'\-\.&]*|\d[\w\.]*)"
_JOIN = r"(?:of|on|for|and|the|to|in|&)"
_GENERIC_RE = re.compile(rf"\b{_CAP}(?:[ ,]+(?:{_CAP}|{_JOIN}))*? {_NOUNS}\b")
_NUMBER_RE = re.compile(
    r"\b(?:(?:Implementing |Delegated )?(?:Regulation|Directive|Decision))\s*\((?:EU|EC|EEC)\)\s*(?:No\.?\s*)?\d{2,4}/\d{1,5}"
    r"|\bDirective\s+\d{2,4}/\d{1,4}/(?:EC|EEC|EU)\b|\bGB/T\s?\d{4,5}(?:\.\d+)?(?:-\d{4})?"
    r"|\b(?:NIST\s+)?SP\s?800-\d{1,3}[A-Z]?(?:r\d+|\s+Rev\.\s?\d+)?(?![\w\-])")
#: A NIST Special Publication's number without its "NIST" prefix or revision: one instrument across revisions.
_NIST_SP_RE = re.compile(r"(?:NIST\s+)?SP\s?(800-\d{1,3}[A-Z]?)")
_DEFINITION_RE = re.compile(r"\(\s*(?:the\s+)?[“\"]?\s*([A-Z][A-Za-z0-9\-]{1,12})\s*[”\"]?\s*\)")
#: Words that may stand before a table name without making it another name (headline verbs,
#: prepositions, jurisdictions): "Fines Apple Under Digital Markets Act" is still the DMA.
_HARMLESS = frozenset(
    "The A An And Or Of On For To In At By With From Under Against Over Into New Updated Draft Proposed Revised "
    "Amended Final Amending Implementing EU EU’s EU's US U.S. UK EEA European German Germany’s Germany's French "
    "Irish Italian Dutch Spanish British American Chinese China’s China's PRC Fines Fined Enacts Enacted Adopts "
    "Adopted Approves Approved Passes Passed Proposes Publishes Published Releases Released Issues Issued Opens "
    "Advances Updates Urges Amends Signs Clarifies Launches Introduces Navigating Expand Expands Decide Decides "
    "Under Following Per Regarding Re About Enters Entered Applies Delays Delayed Meanwhile Therefore However Also "
    "Fate Amendments Amendment Part Article Articles Art. Section Sec. Chapter Annex Recital Paragraph".split())
#: Headline words cut off the front of a generic name ("European Commission Fines Apple and Meta Under …").
_CUT = _HARMLESS - {"EU", "US", "U.S.", "UK", "EEA", "European", "German", "French", "Irish", "Italian", "Dutch",
                    "Spanish", "British", "American", "Chinese", "PRC", "New", "Implementing"}
#: Generic names that are only a kind of instrument, not one ("Delegated Regulation", "the Act").
_VAGUE_FIRST = frozenset("Delegated Implementing Management Privacy Key Data This That Such Each Any Other Its "
                         "Their Proposed Draft New Senate House Assembly".split())
#: Words that make a capitalised name an organisation, not an instrument ("… Administration for Market Regulation").
_BODY_WORDS = frozenset("Office Administration Commission Authority Ministry Committee Agency Council Court Board "
                        "Department Bureau Institute Parliament Congress".split())


@dataclass(frozen=True)
class Instrument:
    """One instrument: a stable ``key`` (slug), the ``name`` shown, the ``aliases`` bulletins use,
    official ``numbers``, the ``jurisdiction`` and issuing ``regulator`` where known (else None)."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    jurisdiction: str | None = None
    regulator: str | None = None

    @property
    def forms(self) -> tuple[str, ...]:
        """Every way bulletins write it: name, aliases, official numbers."""
        return (self.name, *self.aliases, *self.numbers)

    def to_dict(self) -> dict:
        """JSON-ready dict (keys as the attributes)."""
        return {"key": self.key, "name": self.name, "aliases": list(self.aliases), "numbers": list(self.numbers),
                "jurisdiction": self.jurisdiction, "regulator": self.regulator}

    @classmethod
    def from_dict(cls, d: dict) -> "Instrument":
        """The inverse of :meth:`to_dict`."""
        return cls(d["key"], d["name"], tuple(d.get("aliases") or ()), tuple(d.get("numbers") or ()),
                   d.get("jurisdiction"), d.get("regulator"))


@dataclass(frozen=True)
class Mention:
    """A span ``[start, end)`` of a text (characters) naming instrument ``key``, as written (``surface``)."""

    key: str
    start: int
    end: int
    surface: str


def slug(name: str) -> str:
    """The key of an instrument known only by its name: lower-case words joined by ``-``
    (``"Oregon Consumer Privacy Act"`` → ``"oregon-consumer-privacy-act"``), at most MAX_KEY characters
    (subscriptions store keys, up to 100 characters)."""
    name = re.sub(r"^(?:the|eu|eu’s|eu's)\s+", "", name.strip(), flags=re.IGNORECASE)
    key = "-".join(re.findall(r"[a-z0-9]+", name.lower().replace("’s", "").replace("'s", "")))
    if len(key) > MAX_KEY:  # a very long name: cut, with a digest of the whole so two such names stay apart
        key = key[:MAX_KEY - 9].rstrip("-") + "-" + hashlib.sha256(key.encode()).hexdigest()[:8]
    return key


def _normal(name: str) -> str:
    return " ".join(name.replace("’", "'").replace("–", "-").lower().split())


@dataclass
class InstrumentTable:
    """The instruments known to one generation: the alias table plus what the corpus itself defines.

    Raises ``ValueError`` (from :meth:`load`) naming the file when the TOML table is malformed.
    """

    instruments: dict[str, Instrument] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TABLE_FILE) -> "InstrumentTable":
        """Read the alias table (TOML, one table per key)."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the instrument table: {exc}") from exc
        out: dict[str, Instrument] = {}
        for key, d in raw.items():
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                raise ValueError(f"{path}: [{key}] needs a name")
            out[key] = Instrument(key, d["name"], tuple(d.get("aliases", ())), tuple(d.get("numbers", ())),
                                  d.get("jurisdiction"), d.get("regulator"))
        return cls(out)

    def __post_init__(self) -> None:
        self._compiled: re.Pattern | None = None
        self._by_form: dict[str, str] = {}
        self._by_normal: dict[str, str] | None = None

    def add(self, instrument: Instrument) -> None:
        """Add (or replace) an instrument; the matcher is rebuilt on next use."""
        replaced = self.instruments.get(instrument.key)
        self.instruments[instrument.key] = instrument
        self._compiled = None
        if self._by_normal is not None and replaced is not None and not set(replaced.forms) <= set(instrument.forms):
            self._by_normal = None  # a form was dropped: rebuild
        elif self._by_normal is not None:  # forms only added: extend the look-up in place
            for f in (instrument.key, *instrument.forms):
                self._by_normal.setdefault(_normal(f), instrument.key)

    def add_alias(self, key: str, alias: str) -> None:
        """Make ``alias`` another name of instrument ``key`` (no-op when it already is)."""
        inst = self.instruments[key]
        if alias not in inst.aliases and alias != inst.name:
            self.add(Instrument(inst.key, inst.name, (*inst.aliases, alias), inst.numbers, inst.jurisdiction,
                                inst.regulator))

    def _matcher(self) -> re.Pattern:
        if self._compiled is None:
            self._by_form = {}
            for inst in self.instruments.values():
                for form in inst.forms:
                    self._by_form.setdefault(form, inst.key)
            forms = sorted(self._by_form, key=len, reverse=True)
            body = "|".join(re.escape(f) for f in forms) or r"(?!x)x"
            self._compiled = re.compile(rf"(?<![\w\-])(?:{body})(?![\w\-]|’s?\w)")
        return self._compiled

    def resolve(self, name: str) -> str | None:
        """The key named by ``name`` (a key, a name, an alias or a number; case and spacing ignored), or None."""
        want = _normal(name)
        if not want:
            return None
        if self._by_normal is None:  # built once per change of the table: resolving stays O(1)
            self._by_normal = {}
            for inst in self.instruments.values():
                for f in (inst.key, *inst.forms):
                    self._by_normal.setdefault(_normal(f), inst.key)
        return self._by_normal.get(want)

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Up to ``n`` instrument names nearest to ``name`` (substring matches first, then difflib's ratio)."""
        want = _normal(name)
        forms = {(_normal(f)): inst.name for inst in self.instruments.values()
                 for f in (inst.name, *inst.aliases, inst.key)}
        out: list[str] = []
        for form, shown in sorted(forms.items()):
            if want and (want in form or form in want) and shown not in out:
                out.append(shown)
        for form in difflib.get_close_matches(want, list(forms), n=n * 3, cutoff=0.5):
            if forms[form] not in out:
                out.append(forms[form])
        return out[:n]

    def learn_definitions(self, text: str) -> None:
        """Add the instruments and acronyms a text defines: ``Name Act (NA)`` / ``Name Act (the “NA”)``.

        A name the table resolves gets the acronym as an alias; an unknown name becomes an
        instrument of its own (key :func:`slug`). Acronyms already taken by another instrument are
        left alone.
        """
        for m in _DEFINITION_RE.finditer(text):
            head = text[max(0, m.start() - 160):m.start()].rstrip()
            head = re.sub(r"\s+(?:of\s+)?(?:19|20)\d{2}$", "", head)  # "Online Safety Act 2023 (OSA)"
            names = list(_GENERIC_RE.finditer(head))
            if not names or names[-1].end() != len(head):
                continue
            name = _trim(names[-1].group(0))
            acronym = m.group(1)
            if name is None or not _looks_like_acronym(acronym, name):
                continue
            key = self.resolve(name) or slug(name)
            if key not in self.instruments:
                self.add(Instrument(key, name))
            taken = self.resolve(acronym)
            if taken is None:
                self.add_alias(key, acronym)

    def find_mentions(self, text: str) -> list[Mention]:
        """Every span of ``text`` that names an instrument, in text order, non-overlapping.

        Table forms win over generic names at the same place; a table form preceded by a
        capitalised word outside :data:`_HARMLESS` is part of a longer, other name and is skipped.
        """
        spans: list[Mention] = []
        for m in self._matcher().finditer(text):
            before = re.search(r"([\w’'\.\-]+)\s+$", text[max(0, m.start() - 40):m.start()])
            word = before.group(1) if before else ""
            if word[:1].isupper() and word not in _HARMLESS and not re.search(r"[’']s$", word):
                continue
            spans.append(Mention(self._by_form[m.group(0)], m.start(), m.end(), m.group(0)))
        for m in _NUMBER_RE.finditer(text):
            if not _overlaps(spans, m.start(), m.end()):
                number = " ".join(m.group(0).split())
                sp = _NIST_SP_RE.match(number)
                number = f"NIST SP {sp.group(1)}" if sp else number
                spans.append(Mention(self.resolve(number) or slug(number), m.start(), m.end(), m.group(0)))
        for m in _GENERIC_RE.finditer(text):
            name = _trim(m.group(0))
            if name is None:
                continue
            start = m.end() - len(name)
            if _overlaps(spans, start, m.end()):
                continue
            spans.append(Mention(self.resolve(name) or slug(name), start, m.end(), name))
        return sorted(spans, key=lambda s: s.start)

    def name_of(self, key: str) -> str:
        """The name shown for ``key`` (the key itself when unknown)."""
        inst = self.instruments.get(key)
        return inst.name if inst else key


def _overlaps(spans: list[Mention], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _trim(name: str) -> str | None:
    """A generic name without headline words in front, or None when what is left is not a name."""
    words = name.replace(",", " ").split()
    cut = max((i + 1 for i, w in enumerate(words[:-1])
               if w in _CUT or w.endswith((":", ".")) or w[:1].isdigit()), default=0)
    words = words[cut:]
    while words and (words[0][:1].islower() or words[0][:1].isdigit()):
        words = words[1:]
    bare = [re.sub(r"[’']s$", "", w) for w in words]
    possessive_vague = len(bare) > 1 and bare[1] in _VAGUE_FIRST and bare[0] != words[0] and len(words) < 4
    if len(words) < 3 or bare[0] in _VAGUE_FIRST or possessive_vague or _BODY_WORDS & set(bare):
        return None
    return " ".join(words)


def _looks_like_acronym(acronym: str, name: str) -> bool:
    """True when acronym's capitals are initials of name's words, in order (OCPA ← Oregon Consumer Privacy Act)."""
    letters = [c for c in acronym if c.isupper()]
    if len(letters) < 2:
        return False
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z][\w’'\-]*", name) if w[0].isupper())
    it = iter(initials)
    return all(c in it for c in letters)
