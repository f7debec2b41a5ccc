"""The shapes of an instrument's name in running text: generic names, official numbers, bill numbers.

Pure functions over strings, used by :meth:`retrieval.instruments.names.InstrumentTable.find_mentions`:

- :func:`generic_names` — capitalised names of three or more words that end in an instrument noun
  ("Oregon Consumer Privacy Act", "Protection of Children Codes", "ASEAN-Australia-New Zealand Free
  Trade Agreement") or start with one ("Regulations on Promoting and Regulating Cross-Border Data"),
  with headline words ("Fines", "Enacts") cut off the front;
- :func:`official_numbers` — ``Regulation (EU) 2025/302``, ``Delegated Regulation C(2025) 885``,
  ``Directive 2002/58/EC``, ``GB/T 35273``, NIST Special Publications;
- :func:`bill_numbers` — a legislature's bill by number, with the jurisdiction the text gives it
  ("Oklahoma’s Senate Bill 546", "Montana’s SB 297", "Texas ( SB 2991)"): the key needs the
  jurisdiction, since every state has an SB 71;
- :func:`looks_like_acronym` — whether "(OCPA)" abbreviates the name before it.

Measured on the hand audit in docs/instruments.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

NOUNS = r"(?:Act|Law|Regulations?|Directive|Bill|Ordinance|Measures|Treaty|Agreement|Codes? of Practice|Codes)"
#: Capitalised words (and the lower-case joiners allowed inside a name) of a generic instrument name.
_CAP = r"(?:[A-Z][\w’'\-\.&]*|\d[\w\.]*)"
_JOIN = r"(?:of|on|for|and|the|to|in|&)"
GENERIC_RE = re.compile(rf"\b{_CAP}(?:[ ,]+(?:{_CAP}|{_JOIN}))*? {NOUNS}\b")
#: A name that starts with its noun: "Regulations on Promoting and Regulating Cross-Border Data",
#: "Management Measures on the Blockchain Information Service" (China's usual form).
_LEADING_RE = re.compile(rf"\b(?:[A-Z]\w+ )?(?:Regulations?|Measures|Provisions) (?:on|for) (?:the )?"
                         rf"[A-Z][\w’'\-]*(?:\s+(?:{_CAP}|and|of|the|for|on|in))*[\w’'\-]")
_NUMBER_RE = re.compile(
    r"\b(?:(?:Implementing |Delegated )?(?:Regulation|Directive|Decision))\s*\((?:EU|EC|EEC)\)\s*(?:No\.?\s*)?\d{2,4}/\d{1,5}"
    r"|\b(?:(?:Implementing |Delegated )?(?:Regulation|Directive|Decision))\s*\((?:EU|EC) \d{4}/\d{1,5}\)"
    r"|\b(?:Implementing |Delegated )?(?:Regulation|Directive|Decision) C\(\d{4}\)\s?\d{1,5}"
    r"|\bRegulation \d{4}/\d{3,4}\b"
    r"|\bDirective\s+\d{2,4}/\d{1,4}/(?:EC|EEC|EU)\b|\bGB/T\s?\d{4,5}(?:\.\d+)?(?:-\d{4})?"
    r"|\b(?:NIST\s+)?SP\s?800-\d{1,3}[A-Z]?(?:r\d+|\s+Rev\.\s?\d+)?(?![\w\-])")
#: A NIST Special Publication's number without its "NIST" prefix or revision: one instrument across revisions.
_NIST_SP_RE = re.compile(r"(?:NIST\s+)?SP\s?(800-\d{1,3}[A-Z]?)")
_BILL = r"(?:(?:Senate|House|Assembly|Legislative) Bill\s?\d{1,5}|(?:SB|HB|AB|LB|SF|HF)\s?\d{1,5}(?:-\d{1,4})?|SB\d{2}-\d{2,4})"
#: "Oklahoma’s Senate Bill 546", "Oregon’s amended HB 2008" (group 1 the jurisdiction, 2 the bill).
_BILL_POSSESSIVE = re.compile(rf"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?)[’']s\s+(?:amended\s+|new\s+)?({_BILL})\b")
#: "Texas ( SB 2991)", "Oklahoma ( SB 546, SB 626)": a list giving each state its bills.
_BILL_LIST = re.compile(rf"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?) \(\s*({_BILL}(?:,\s*{_BILL})*)\s*\)")
DEFINITION_RE = re.compile(r"\(\s*(?:the\s+)?[“\"]?\s*([A-Z][A-Za-z0-9\-]{1,12})\s*[”\"]?\s*\)")
#: A name continued into a longer one: "Personal Data Protection Law (PDPL) Implementing Regulations",
#: "Online Safety Act 2023 (Category 1 … Threshold Conditions) Regulations 2025".
EXTENSION_RE = re.compile(r"(?:\s+(?:19|20)\d{2})?(?:\s*\([^()]{1,120}\))?\s+((?:Implementing |Delegated )?"
                          r"(?:Regulations|Rules)(?:\s+(?:19|20)\d{2})?)\b")
#: Words that may stand before a table name without making it another name (headline verbs,
#: prepositions, jurisdictions): "Fines Apple Under Digital Markets Act" is still the DMA.
HARMLESS = frozenset(
    "The A An And Or Of On For To In At By With From Under Against Over Into New Updated Draft Proposed Revised "
    "Amended Final Amending Implementing EU EU’s EU's US U.S. UK EEA European German Germany’s Germany's French "
    "Irish Italian Dutch Spanish British American Chinese China’s China's PRC Fines Fined Enacts Enacted Adopts "
    "Adopted Approves Approved Passes Passed Proposes Publishes Published Releases Released Issues Issued Opens "
    "Advances Updates Urges Amends Signs Clarifies Launches Introduces Navigating Expand Expands Decide Decides "
    "Under Following Per Regarding Re About Enters Entered Applies Delays Delayed Meanwhile Therefore However Also "
    "Fate Amendments Amendment Part Article Articles Art. Section Sec. Chapter Annex Recital Paragraph "
    "Upgraded Finalizes Finalises Finalized".split())
#: Headline words cut off the front of a generic name ("European Commission Fines Apple and Meta Under …").
_CUT = HARMLESS - {"EU", "US", "U.S.", "UK", "EEA", "European", "German", "French", "Irish", "Italian", "Dutch",
                   "Spanish", "British", "American", "Chinese", "PRC", "New", "Implementing"}
#: Headline verbs: a name cannot hold one it cannot be cut at ("Oregon Advances Bill", "Montana Moves to
#: Expand Privacy Law" are headlines, not names).
_HEADLINE_VERBS = frozenset(
    "Fines Fined Enacts Enacted Adopts Adopted Approves Approved Passes Passed Proposes Publishes Published Releases "
    "Released Issues Issued Opens Advances Updates Urges Amends Signs Clarifies Launches Introduces Navigating Expand "
    "Expands Decide Decides Enters Entered Applies Delays Delayed Finalizes Finalises Moves Move Takes Signals "
    "Follows Proceeds".split())
#: Generic names that are only a kind of instrument, not one ("Delegated Regulation", "the Act", "Code of Practice").
_VAGUE_FIRST = frozenset("Delegated Implementing Management Privacy Key Data This That Such Each Any Other Its "
                         "Their Proposed Draft New Senate House Assembly Code Codes".split())
#: Words that make a capitalised name an organisation, not an instrument ("… Administration for Market
#: Regulation"); a name ending in Act, Law, Bill… may still be named after one ("Federal Office for
#: Information Security Act").
_BODY_WORDS = frozenset("Office Administration Commission Authority Ministry Committee Agency Council Court Board "
                        "Department Bureau Institute Parliament Congress".split())
_BODY_NOUNS = re.compile(r"(?:Regulations?|Measures)$")


def trim(name: str) -> str | None:
    """A generic name without headline words in front, or None when what is left is not a name.

    A headline word is cut only when at least three words remain after it ("Digital Protection
    Against Violence Act" keeps its "Against").
    """
    words = name.replace(",", " ").split()
    hard = max((i + 1 for i, w in enumerate(words[:-1]) if w.endswith((":", ".")) or w[:1].isdigit()), default=0)
    soft = [i + 1 for i, w in enumerate(words[:-1]) if w in _CUT and i + 1 > hard and len(words) - i - 1 >= 3]
    words = words[max([hard, *soft]):]
    while words and (words[0][:1].islower() or words[0][:1].isdigit()):
        words = words[1:]
    if any(w in _HEADLINE_VERBS for w in words[:-1]) or " to " in f" {' '.join(words)} ":
        return None  # a headline's verb (or infinitive) left in: no name
    bare = [re.sub(r"[’']s$", "", w) for w in words]
    possessive_vague = len(bare) > 1 and bare[1] in _VAGUE_FIRST and bare[0] != words[0] and len(words) < 4
    body = _BODY_WORDS & set(bare) and _BODY_NOUNS.search(" ".join(bare))
    if len(words) < 3 or bare[0] in _VAGUE_FIRST or possessive_vague or body:
        return None
    return " ".join(words)


#: Quick tests that a text may hold a shape at all (most sentences hold none): each pattern is costlier.
_HAS_NOUN = re.compile(r"\b(?:Act|Law|Regulations?|Directive|Bill|Ordinance|Measures|Treaty|Agreement|Codes?|Provisions)\b")
_HAS_DIGIT = re.compile(r"\d")
_HAS_BILL = re.compile(r"Bill|\b[SHAL][BF]\s?\d")


def generic_names(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, name) of the generic names of a text (see the module docstring), in text order."""
    if not _HAS_NOUN.search(text):
        return iter(())
    out = []
    for m in GENERIC_RE.finditer(text):
        name = trim(m.group(0))
        if name is not None:
            out.append((m.end() - len(name), m.end(), name))
    for m in _LEADING_RE.finditer(text):
        words = m.group(0).split()
        if len(words) >= 4 and not any(s < m.end() and m.start() < e for s, e, _ in out):
            out.append((m.start(), m.end(), m.group(0)))
    return iter(sorted(out))


def official_numbers(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, number) of the official numbers of a text, each normalised: ``NIST SP 800-172``
    for any revision, ``Implementing Regulation (EU) 2025/302`` for ``… (EU 2025/302)``."""
    for m in _NUMBER_RE.finditer(text) if _HAS_DIGIT.search(text) else ():
        number = " ".join(m.group(0).split())
        sp = _NIST_SP_RE.match(number)
        if sp:
            number = f"NIST SP {sp.group(1)}"
        number = re.sub(r"\((EU|EC) (\d{4}/\d+)\)", r"(\1) \2", number)
        yield m.start(), m.end(), number


def bill_numbers(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, name) of bills numbered with their jurisdiction, the name in full: ``Oklahoma Senate
    Bill 546`` for "Oklahoma’s Senate Bill 546" and "Oklahoma ( SB 546", ``Montana Senate Bill 297`` for
    "Montana’s SB 297" (a bill written without its jurisdiction is not returned: its key would be ambiguous)."""
    if not _HAS_BILL.search(text):
        return
    for m in _BILL_POSSESSIVE.finditer(text):
        yield m.start(2), m.end(2), f"{m.group(1)} {_spaced(m.group(2))}"
    for m in _BILL_LIST.finditer(text):
        for b in re.finditer(_BILL, m.group(2)):
            yield m.start(2) + b.start(), m.start(2) + b.end(), f"{m.group(1)} {_spaced(b.group(0))}"


_BILL_WORDS = {"SB": "Senate Bill", "HB": "House Bill", "AB": "Assembly Bill", "LB": "Legislative Bill",
               "SF": "Senate File", "HF": "House File"}


def _spaced(bill: str) -> str:
    """``SB 546``/``SB546`` → ``Senate Bill 546``: one name however the bulletin writes it."""
    if re.match(r"SB\d{2}-", bill):  # Colorado's "SB25-086" is the bill's whole number
        return bill
    m = re.match(r"(SB|HB|AB|LB|SF|HF)\s?(\d.*)$", bill)
    return f"{_BILL_WORDS[m.group(1)]} {m.group(2)}" if m else re.sub(r"Bill\s?(?=\d)", "Bill ", bill)


def looks_like_acronym(acronym: str, name: str) -> bool:
    """True when an acronym abbreviates a name: its capitals are, in order, letters of the name that
    start at a capitalised word's initial and end at the last word's (OCPA ← Oregon Consumer Privacy Act,
    CSA ← EU Cybersecurity Act, whose S is inside a word)."""
    letters = [c.lower() for c in acronym if c.isupper()]
    words = [w for w in re.findall(r"[A-Za-z][\w’'\-]*", name) if w[0].isupper()]
    if len(letters) < 2 or not words or letters[-1] != words[-1][0].lower():
        return False
    if letters[0] not in {w[0].lower() for w in words[:2]}:
        return False
    flat = iter("".join(words[:-1]).lower())
    return all(c in flat for c in letters[:-1])
