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
   Ordinance, Measures, Agreement or Code(s) of Practice, with headline words ("Fines", "Under") cut off
   their front, and bills numbered with their jurisdiction ("Oklahoma’s Senate Bill 546") — the shapes
   are in :mod:`retrieval.instruments.patterns`.

A form two table entries share ("Personal Information Protection Act": Bermuda's and South Korea's)
goes to the entry whose ``context`` words (its jurisdiction, its regulator) the surrounding text names.
Pure functions over strings; imports nothing from the rest of ``retrieval`` but the TOML path.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import patterns

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found]


#: Longest instrument key (a longer name's slug is cut and given a digest suffix).
MAX_KEY = 80
#: The maintained alias table (see its header for the format).
TABLE_FILE = Path(__file__).with_name("instruments.toml")
#: A displayed name's bracketed tail, which is no part of the name as bulletins write it: "(GDPR)", "(EU)".
_SHOWN_TAIL = re.compile(r"\s*\([^()]*\)$")
#: Jurisdiction words a name may start with that do not change which instrument it is ("EU General Data
#: Protection Regulation" is the GDPR), and the year an Act's name may carry ("Online Safety Act 2023").
_PREFIX = re.compile(r"^(?:the\s+)?(?:EU|EU’s|EU's|European|UK|UK’s|UK's|US|U\.S\.|[A-Z][a-z]+[’']s)\s+")
_YEAR_TAIL = re.compile(r"\s+(?:of\s+)?(?:19|20)\d{2}$")


@dataclass(frozen=True)
class Instrument:
    """One instrument: a stable ``key`` (slug), the ``name`` shown, the ``aliases`` bulletins use,
    official ``numbers``, the ``jurisdiction`` and issuing ``regulator`` where known (else None), and
    ``context``: words (a country, a regulator) that pick it when another entry shares one of its forms."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    jurisdiction: str | None = None
    regulator: str | None = None
    context: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        """Every way bulletins write it: name, aliases, official numbers."""
        return (self.name, *self.aliases, *self.numbers)

    @property
    def written_forms(self) -> tuple[str, ...]:
        """The forms matched in text: the name without its shown tail ("(GDPR)", "(EU)"), aliases, numbers."""
        return tuple(dict.fromkeys((_SHOWN_TAIL.sub("", self.name) or self.name, *self.aliases, *self.numbers)))

    def to_dict(self) -> dict:
        """JSON-ready dict (keys as the attributes)."""
        return {"key": self.key, "name": self.name, "aliases": list(self.aliases), "numbers": list(self.numbers),
                "jurisdiction": self.jurisdiction, "regulator": self.regulator}

    @classmethod
    def from_dict(cls, d: dict) -> "Instrument":
        """The inverse of :meth:`to_dict` (``context`` is the table's: saved instruments are found by pattern)."""
        return cls(d["key"], d["name"], tuple(d.get("aliases") or ()), tuple(d.get("numbers") or ()),
                   d.get("jurisdiction"), d.get("regulator"))


@dataclass(frozen=True)
class Mention:
    """A span ``[start, end)`` of a text (characters) naming instrument ``key``, as written (``surface``);
    ``method`` is how it was found: ``table``, ``number``, ``bill``, ``definition`` or ``generic``;
    ``name`` the name to know it by when the surface lacks part of it (a bill's jurisdiction), else None."""

    key: str
    start: int
    end: int
    surface: str
    method: str = "table"
    name: str | None = None


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
                                  d.get("jurisdiction"), d.get("regulator"), tuple(d.get("context", ())))
        return cls(out)

    def __post_init__(self) -> None:
        self._compiled: re.Pattern | None = None
        self._by_form: dict[str, list[str]] = {}
        self._by_normal: dict[str, str] | None = None

    def add(self, instrument: Instrument) -> None:
        """Add (or replace) an instrument; the matcher is rebuilt on next use."""
        replaced = self.instruments.get(instrument.key)
        self.instruments[instrument.key] = instrument
        self._compiled = None
        if self._by_normal is not None and replaced is not None and not set(replaced.forms) <= set(instrument.forms):
            self._by_normal = None  # a form was dropped: rebuild
        elif self._by_normal is not None:  # forms only added: extend the look-up in place
            for f in (instrument.key, *instrument.forms, *instrument.written_forms):
                self._by_normal.setdefault(_normal(f), instrument.key)

    def add_alias(self, key: str, alias: str) -> None:
        """Make ``alias`` another name of instrument ``key`` (no-op when it already is)."""
        inst = self.instruments[key]
        if alias not in inst.aliases and alias != inst.name:
            self.add(Instrument(inst.key, inst.name, (*inst.aliases, alias), inst.numbers, inst.jurisdiction,
                                inst.regulator, inst.context))

    def _matcher(self) -> re.Pattern:
        if self._compiled is None:
            self._by_form = {}
            for inst in self.instruments.values():
                for form in inst.written_forms:
                    self._by_form.setdefault(form, [])
                    if inst.key not in self._by_form[form]:
                        self._by_form[form].append(inst.key)
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
                for f in (inst.key, *inst.forms, *inst.written_forms):
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

        A name the table resolves — as written, without its year ("Online Safety Act 2023"), or
        without a jurisdiction word in front ("EU General Data Protection Regulation") — gets the
        acronym as an alias; so does a name whose acronym the table already gives to an instrument
        of that same name without the jurisdiction word. An unknown name becomes an instrument of
        its own (key :func:`slug`). A quoted definition (``(the “BSI-Act”)``) needs no initials;
        acronyms already taken by another instrument are left alone.
        """
        for m in patterns.DEFINITION_RE.finditer(text):
            head = text[max(0, m.start() - 160):m.start()].rstrip()
            bare_head = _YEAR_TAIL.sub("", head)
            names = list(patterns.GENERIC_RE.finditer(bare_head))
            if not names or names[-1].end() != len(bare_head):
                continue
            name = patterns.trim(names[-1].group(0))
            acronym = m.group(1)
            quoted = bool(re.search(r"[“\"]", m.group(0)))
            if quoted and re.fullmatch(r"[A-Z][a-z]+", acronym):
                continue  # (the “Codes”), (the “Guidelines”): a word the document uses for it, not a name
            if name is None or not (quoted or patterns.looks_like_acronym(acronym, name)):
                continue
            with_year = name + head[len(bare_head):]
            key = self.resolve(with_year) or self.resolve(name) or self.resolve(_PREFIX.sub("", name))
            if key is None:
                taken = self.resolve(acronym)
                if taken is not None and slug(_PREFIX.sub("", name)) in {slug(_PREFIX.sub("", f))
                                                                        for f in self.instruments[taken].written_forms}:
                    key = taken
            key = key or slug(name)
            if key not in self.instruments:
                self.add(Instrument(key, name))
            if name != self.instruments[key].name and self.resolve(name) is None:
                self.add_alias(key, name)  # "EU General Data Protection Regulation" is the GDPR
            if self.resolve(acronym) is None:
                self.add_alias(key, acronym)

    def find_mentions(self, text: str, context: str | None = None) -> list[Mention]:
        """Every span of ``text`` that names an instrument, in text order, non-overlapping.

        Table forms win over numbers, bills and generic names at the same place; a table form
        preceded by a capitalised word outside :data:`~retrieval.instruments.patterns.HARMLESS` is
        part of a longer, other name and is skipped, and a table form continued into a longer name
        ("PDPL Implementing Regulations") is that longer name. A form two entries share goes to the
        one whose ``context`` words ``context`` (default ``text``) names, else to the first entry.
        """
        spans: list[Mention] = []
        for m in self._matcher().finditer(text):
            if spans and m.start() < spans[-1].end:
                continue  # inside a longer name found just before ("… (PDPL) Implementing Regulations")
            before = re.search(r"([\w’'\.\-]+)\s+$", text[max(0, m.start() - 40):m.start()])
            word = before.group(1) if before else ""
            if word[:1].isupper() and word not in patterns.HARMLESS and not re.search(r"[’']s$", word):
                continue
            ext = patterns.EXTENSION_RE.match(text, m.end())
            if ext:  # "Personal Data Protection Law (PDPL) Implementing Regulations": another instrument
                name = " ".join(text[m.start():ext.end()].split())
                spans.append(Mention(self.resolve(name) or slug(name), m.start(), ext.end(), name, "generic"))
                continue
            key = self._pick(m.group(0), context or text)
            if key is None:  # a name several countries' laws share, with no country named: a name of its own
                spans.append(Mention(slug(m.group(0)), m.start(), m.end(), m.group(0), "generic"))
            else:
                spans.append(Mention(key, m.start(), m.end(), m.group(0)))
        found = [(s, e, n, "number") for s, e, n in patterns.official_numbers(text)]
        found += [(s, e, n, "bill") for s, e, n in patterns.bill_numbers(text)]
        found += [(s, e, n, "generic") for s, e, n in patterns.generic_names(text)]
        for start, end, name, method in found:
            if not _overlaps(spans, start, end):
                keyed = f"{name} of Practice" if name.endswith(" Codes") else name  # "… Codes" are codes of practice
                spans.append(Mention(self.resolve(name) or self.resolve(keyed) or slug(keyed), start, end,
                                     text[start:end], method, name if method == "bill" else None))
        return sorted(spans, key=lambda s: s.start)

    def _pick(self, form: str, context: str) -> str | None:
        """The key of a table form. An entry with ``context`` words (a form common to several
        countries' laws) is picked only when ``context`` names one of them; of the others, the first.
        None when no entry fits: the form is then read as a name the table does not know."""
        fits = []
        for k in self._by_form[form]:
            words = self.instruments[k].context
            if not words:
                fits.append((1, k))
            elif any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", context) for w in words):
                fits.append((0, k))
        return min(fits)[1] if fits else None

    def name_of(self, key: str) -> str:
        """The name shown for ``key`` (the key itself when unknown)."""
        inst = self.instruments.get(key)
        return inst.name if inst else key


def _overlaps(spans: list[Mention], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)
