"""The dated events a sentence states: draft, adopted, in force, deadline, fine… and the date each one governs.

:func:`triggers` reads one sentence (English trigger words, see :data:`KINDS`) and returns every
event trigger with the date written for it, normalised to ISO at the precision written
(``11 March 2025`` → ``2025-03-11``, ``March 2024`` → ``2024-03``, ``in 2019`` → ``2019``), or None.
Which date belongs to which trigger is read from the sentence's structure, not from distance alone:

- a date after ``until``/``by``/``no later than``/``will close on``/``ends`` is a *deadline* date: it
  makes a deadline event of its own and dates no other kind (a consultation's closing day is not the
  draft's date);
- any other date belongs to the nearest trigger before it in the same clause (60 characters at most,
  no ``;``/``:``/``which``/``before``… between), else to the nearest one just after it; one trigger,
  one date, so "adopted … in March 2024 and … its approval in May 2024" is two adoption events;
- a date the sentence opens with ("On 22 August 2019, …") dates its triggers that got none.

Words that look like triggers but state no event are left out: a word fused to a prefix
("pre-consultation"), an amendment word used as an adjective ("the revised Treaty", "Oregon’s amended HB
2008"), a step inside a condition ("If enacted, …", "Once ratified …"). Links are read as blanks. Who
acted (:func:`actor`) comes from a short list of bodies bulletins name. No model: patterns, measured on
the hand audit in docs/instruments.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as _date

from retrieval.answerability.slots import DATE_RE

_B = r"(?<![\w\-])"  # a trigger starts a word that is not glued to a prefix ("pre-consultation")
#: Event kinds, their trigger words, and a one-word label shown in timelines, in stage order.
KINDS: dict[str, tuple[str, re.Pattern]] = {
    "draft": ("draft", re.compile(
        _B + r"(?:draft\w*|proposals?|proposed|propos(?:es|ing)|for (?:public )?(?:comment|consultation)s?"
        r"|consultations?|consulted on|consults on|public comments?|(?:first|second|third|final) reading"
        r"|reading stage|cleared the (?:House|Senate|Assembly)|advanc(?:ed|es|ing) (?:to|through))\b", re.I)),
    "resolution": ("resolution", re.compile(_B + r"(?:resolution|vot\w* against|opposed?)\b", re.I)),
    "adopted": ("adopted", re.compile(
        _B + r"(?:adopt(?:ed|s|ion)|approv(?:ed|al|es)|passed|enact(?:ed|s)|signed into law|vot\w* (?:yes|in favou?r)"
        r"|adequacy decision|endorse[ds]?|ratified|finali[sz]ed)\b", re.I)),
    "in_force": ("in force", re.compile(
        _B + r"(?:(?:enter(?:s|ed|ing)?|entry|came|comes?|come) into force|(?:will be|is now|are now|now) in force"
        r"|(?:has been|have been|is|are|was) in force since|tak(?:es?|ing) effect|took effect|began to take effect"
        r"|bec(?:ame|omes?|ome) (?:fully )?(?:applicable|effective)|will become applicable|(?:will )?be applicable"
        r"|(?:start|begin)(?:s|ning)? (?:to )?apply(?:ing)?(?: from)?|appl(?:y|ies) from|will apply"
        r"|effective (?:from|on|as of)|effective(?= (?:\d|January|February|March|April|May|June|July|August"
        r"|September|October|November|December))|goes live)\b", re.I)),
    "deadline": ("deadline", re.compile(_B + r"(?:deadlines?|due by)\b", re.I)),
    "guidance": ("guidance", re.compile(
        _B + r"(?:guidelines?|guidance|guides?|Q&As?|FAQs?|code of practice|opinion|white paper"
        r"|clarif(?:y|ies|ied|ication|ications)|technical note|recommendation)\b", re.I)),
    "fine": ("fine", re.compile(_B + r"(?:fine[ds]?|fines|fining|penalt(?:y|ies)|penali[sz]ed|sanction(?:ed|s)?)\b", re.I)),
    "challenged": ("challenged", re.compile(
        _B + r"(?:challeng(?:ed|ing)|challenges? (?:to|against|before)|to challenge|legal challenges?|lawsuits?"
        r"|appeal(?:ed|s)?)\b", re.I)),
    "amended": ("amended", re.compile(
        _B + r"(?:amend(?:ed|ment|ments|s|ing)?|revis(?:e|es|ed|ion)|correction|corrigendum)\b", re.I)),
    "repealed": ("repealed", re.compile(
        _B + r"(?:repeal(?:ed|s)?|revok(?:ed|es)|annul(?:led|s)|invalidat(?:ed|es)|struck down|withdrawn)\b", re.I)),
}
#: Every kind's triggers in one pattern for a lower-cased sentence, a group per kind: one scan of each
#: sentence of every bulletin, matched case-sensitively on lower-cased text (together about four times
#: as fast as ten case-insensitive scans). A trigger glued to a prefix ("pre-consultation") is dropped after.
assert all(rx.pattern.startswith(_B) for _, rx in KINDS.values())
assert not any(re.search(r"\\[WSDB]", rx.pattern) for _, rx in KINDS.values())  # escapes survive .lower()
_ALL = re.compile(r"\b(?:" + "|".join(f"(?P<{k}>{rx.pattern[len(_B):].lower()})" for k, (_, rx) in KINDS.items()) + ")")
#: Kinds whose trigger words, when present, mean an "adopted" word is about something else
#: ("adopted a resolution", "approved the draft", "adopted guidelines", "a decision fining").
_MASKS_ADOPTED = ("draft", "resolution", "guidance", "fine")
#: An amendment word right after an adoption word: "finalized significant amendments" is an amendment.
_AMENDMENT_NEXT = re.compile(r"\s+(?:\w+\s+){0,2}(?:amendments?|revisions?|changes)\b", re.I)
#: How far a stage goes: a later event of a higher stage supersedes an earlier item.
STAGE = {"draft": 0, "resolution": 1, "adopted": 2, "in_force": 3, "amended": 4, "repealed": 5}

#: A deadline written as a preposition before its date: "until 20 June 2025", "by 16 April 2025".
_DEADLINE_CUE = re.compile(r"\b(?:until|by|no later than|(?:will )?close[sd]? on|closes|(?:will )?end[s]?(?: on)?"
                           r"|is due(?: on| by)?)\s+(?:the\s+)?$", re.I)
#: Words between a trigger and a date that hand the date to another clause or verb.
_BOUNDARY = re.compile(r"[;:]|\b(?:that|which|who|whose|when|before|after|since|while|because|following|whereas"
                       r"|until|once)\b| and (?!\d)", re.I)
#: An amendment word used as an adjective: after a determiner or a possessive ("the revised", "Oregon’s amended").
_ADJECTIVAL = re.compile(r"(?:\b(?:the|a|an|its|their|this|that|these|those|his|her|our)|[’']s)\s+(?:newly\s+)?$", re.I)
#: A condition a step sits in: "If enacted, …", "Once ratified by …, …", "If passed into law, …".
_CONDITION = re.compile(r"(?:\b(?:if|once|unless|provided(?: that)?|subject to)\b|^\W*should\b)[^,;.]*$", re.I)
#: A date relative to another event: "six months after the entry into force".
_RELATIVE = re.compile(r"\b(?:\d+|six|nine|twelve|eighteen|twenty-four|thirty-six)\s+(?:months?|years?|days?)\s+"
                       r"(?:after|from|following)\b", re.I)

_BODIES = re.compile(
    r"\b(?:European Commission|European Parliament|Council of the EU|Council|EDPB|EDPS|European AI Office|AI Office"
    r"|CNIL|ICO|FTC|Ofcom|CPPA|DPC|AEPD|Garante|Datatilsynet|IMY|CAC|Cyberspace Administration of China|NPC"
    r"|National People's Congress|State Council|MIIT|Ministry of Public Security|TC260"
    r"|National Information Security Standardization Technical Committee|EU Member States|member states"
    r"|Member States|Bundestag|Bundesrat|Parliament|Senate|House|Governor|NOYB|noyb|CJEU|Court of Justice)\b")
_URL_RE = re.compile(r"\bhttps?://[^\s)\]]+")
#: A sentence opening with its date: "On 22 August 2019, …", "Not long after, on 22 April 2025, …" (group 1).
_OPENING_DATE_RE = re.compile(r"\W*(?:[A-Z][\w ]{0,24},\s*)?(?:[Oo]n|As of|as of|Since|since|In|in)\s+(?:the\s+)?"
                              r"(\S.{2,30}?),")
#: Publication of an instrument: "issued its new Regulation on …", "has published the … Code of Practice".
_PUBLISHED = re.compile(r"\b(?:issued|promulgated|published|released)\s+(?:its\s+|the\s+|an?\s+)?(?:new\s+|final\s+)?",
                        re.I)
_IMMEDIATELY = re.compile(r"\s+immediately\b", re.I)
_DIGIT = re.compile(r"\d")
#: A sentence that may state a deadline by its date alone ("Interested parties have until 20 June 2025").
_MAY_BE_DEADLINE = re.compile(r"\b(?:until|by|no later than|close[sd]?|ends?|due)\b.{0,30}\d", re.I)
_PLANNED = re.compile(r"\b(?:aims? to|plans? to|intends? to|expected to|is set to|are set to|anticipated)\b", re.I)
_MONTH_NUM = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_MONTH_NUM.update({m[:3]: n for m, n in list(_MONTH_NUM.items())})
_MONTH_NUM["sept"] = 9
#: How far (characters) a date may be from the trigger it dates.
WINDOW = 60


@dataclass(frozen=True)
class Trigger:
    """One event a sentence states: its ``kind``, the trigger's span ``[start, end)`` (characters of the
    sentence), the ISO ``date`` written for it (None when none is), ``relative`` when the sentence
    places it only relative to another event ("12 months after the entry into force"), and
    ``planned`` when it is a step someone aims or is expected to take ("aims to adopt a legislative
    draft … in Q4 2025")."""

    kind: str
    start: int
    end: int
    date: str | None = None
    relative: bool = False
    planned: bool = False


def normalise_date(written: str, bulletin_date: str | None = None) -> str | None:
    """An ISO date at the precision written, or None when ``written`` is not a calendar date.

    ``11 March 2025``/``March 11, 2025``/``2025-03-11`` → ``2025-03-11``; ``March 2024`` → ``2024-03``;
    ``in 2019``/``Q4 2025`` → ``2019``/``2025``; a day and month without a year take the year of
    ``bulletin_date`` (ISO) when it is given, else None.
    """
    w = written.strip().lower().rstrip(".")
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", w)
    if m:
        return _checked(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    year_m = re.search(r"\b((?:19|20)\d{2})\b", w)
    month = next((n for name, n in _MONTH_NUM.items() if re.search(rf"\b{name}\b\.?", w)), None)
    day_m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", re.sub(r"\b(?:19|20)\d{2}\b", "", w))
    year = int(year_m.group(1)) if year_m else None
    if year is None and month and bulletin_date and re.match(r"\d{4}", bulletin_date):
        year = int(bulletin_date[:4])
    if year is None:
        return None
    if month is None:
        return f"{year:04d}"
    if day_m and not re.search(r"\b(?:end|beginning|start|middle) of\b", w):
        return _checked(year, month, int(day_m.group(1)))
    return f"{year:04d}-{month:02d}"


def _checked(y: int, m: int, d: int) -> str | None:
    try:
        return _date(y, m, d).isoformat()
    except ValueError:
        return None


def _dates(sentence: str, bulletin_date: str | None) -> list[tuple[int, int, str]]:
    """(start, end, ISO) of every calendar date written in the sentence."""
    out = []
    for m in DATE_RE.finditer(sentence) if _DIGIT.search(sentence) else ():
        iso = normalise_date(m.group(0), bulletin_date)
        if iso:
            out.append((m.start(), m.end(), iso))
    # a month named without a year or day ("take effect in October") takes the bulletin's year
    months = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    for m in re.finditer(rf"\bin ({months})\b(?!\s+\d)((?:\s*(?:and|or|to|/|-|–)\s*{months})*\s+((?:19|20)\d{{2}}))?",
                         sentence):
        year = m.group(3) or (bulletin_date[:4] if bulletin_date else None)
        if year and not any(s <= m.start(1) < e for s, e, _ in out):  # "in November and December 2024"
            out.append((m.start(1), m.end(1), f"{year}-{_MONTH_NUM[m.group(1).lower()]:02d}"))
    return sorted(out)


def _kept(kind: str, m: re.Match, sentence: str) -> bool:
    """False for a trigger word that states no event here (an adjective, a condition's step)."""
    lo = max(0, m.start() - 120)
    if kind == "amended" and m.group(0).lower() in ("amended", "revised") and _ADJECTIVAL.search(sentence, lo, m.start()):
        return False
    if kind in ("adopted", "in_force", "amended") and "," in sentence[m.end():] and _CONDITION.search(
            sentence, lo, m.start()):
        # "If enacted, the law …": the step is a condition, not an event (the main clause may still state one)
        return False
    return True


@dataclass
class _Slot:
    kind: str
    start: int
    end: int
    date: str | None = None


def _trigger_words(sentence: str, ignore: tuple[tuple[int, int], ...]) -> list[_Slot]:
    """The trigger words of a sentence (links already blanked), masks applied, in text order."""
    found: list[tuple[str, re.Match]] = []
    lower = sentence.lower()
    if len(lower) == len(sentence):  # lower-casing keeps the offsets (it does not for a few letters)
        hits = [(m.lastgroup or "", m) for m in _ALL.finditer(lower)
                if not (m.start() and sentence[m.start() - 1] == "-")]
    else:
        hits = [(kind, m) for kind, (_, rx) in KINDS.items() for m in rx.finditer(sentence)]
    found = [(kind, m) for kind, m in hits if _kept(kind, m, sentence) and not any(s <= m.start() < e for s, e in ignore)]
    found += [("adopted", m) for m in _PUBLISHED.finditer(sentence)  # "issued its new Regulation on …"
              if any(s == m.end() for s, _ in ignore) and not _CONDITION.search(sentence, 0, m.start())]
    masks = [m for k, m in found if k in _MASKS_ADOPTED]
    voted = any(k == "resolution" for k, _ in found)  # in a vote's sentence, what is "adopted" is the vote
    found = [(k, m) for k, m in found if not (k == "adopted" and (
        voted or any(abs(x.start() - m.end()) <= 40 or abs(m.start() - x.end()) <= 40 for x in masks)
        or _AMENDMENT_NEXT.match(sentence, m.end())))]
    if any(k == "guidance" for k, _ in found):
        found = [(k, m) for k, m in found if k != "draft"]
    return [_Slot(k, m.start(), m.end()) for k, m in sorted(found, key=lambda t: t[1].start())]


def _give_dates(sentence: str, slots: list[_Slot], dates: list[tuple[int, int, str]],
                ignore: tuple[tuple[int, int], ...]) -> list[_Slot]:
    """Date the trigger slots (see the module docstring); returns the deadlines that a date's cue makes."""
    plain = sentence  # names are no clause boundary: "Cloud and AI Development Act" has an " and " of its own
    for s, e in ignore:
        plain = plain[:s] + "x" * (e - s) + plain[e:]
    extra: list[_Slot] = []
    free = []
    for ds, de, iso in dates:  # a deadline cue before the date: a deadline of its own
        cue = _DEADLINE_CUE.search(sentence[max(0, ds - 30):ds])
        if cue and not (len(iso) == 4 and "by" in cue.group(0).lower()):
            near = [t for t in slots if t.kind == "deadline" and t.date is None and 0 <= ds - t.end <= WINDOW]
            if near:
                near[0].date = iso
            else:
                extra.append(_Slot("deadline", max(0, ds - 30) + cue.start(), ds, iso))
        else:
            free.append((ds, de, iso))
    later = []
    for ds, de, iso in free:  # first pass: the nearest trigger before the date, in its clause
        before = [t for t in slots if t.date is None and 0 <= ds - t.end <= WINDOW
                  and not _BOUNDARY.search(plain[t.end:ds])]
        if before:
            before[-1].date = iso
        else:
            later.append((ds, de, iso))
    for ds, de, iso in later:  # second pass: a date written before its trigger ("In March 2024, X adopted …")
        after = [t for t in slots if t.date is None and 0 <= t.start - de <= 40 and not _BOUNDARY.search(plain[de:t.start])]
        if after:
            after[0].date = iso
    for i, t in enumerate(slots):  # "finalized on March 22, 2024 and took effect immediately": the same day
        if t.date is None and i and slots[i - 1].date and _IMMEDIATELY.match(sentence, t.end):
            t.date = slots[i - 1].date
    return extra


def triggers(sentence: str, bulletin_date: str | None = None,
             ignore: tuple[tuple[int, int], ...] = ()) -> list[Trigger]:
    """Every event trigger of a sentence with the date it governs, in text order.

    See the module docstring for how dates are given to triggers. Words inside an ``ignore`` span
    (an instrument's name: "Protection of Children Codes of Practice") are no trigger. An "adopted"
    word is dropped when a draft, guidance or fine word stands within 40 characters of it ("approved
    AI Act draft", "adopted new guidelines"), when the sentence reports a vote ("adopted a resolution
    calling on the EC not to grant … an adequacy decision"), or when an amendment word follows it
    ("finalized amendments"); a draft word is dropped when a guidance word is present ("draft
    guidelines", "a consultation on draft guidance": the draft is the guidance's, not the law's). A
    publication verb right before a name in ``ignore`` is an adoption ("issued its new Regulation
    on …"). ``bulletin_date`` (ISO) gives the year of a day and month written without one.
    """
    if "http" in sentence:
        sentence = _URL_RE.sub(lambda m: " " * len(m.group(0)), sentence)  # a link's words state nothing
    slots = _trigger_words(sentence, ignore)
    if not slots and not _MAY_BE_DEADLINE.search(sentence):
        return []  # most sentences state no event: nothing to date
    dates = _dates(sentence, bulletin_date)
    extra = _give_dates(sentence, slots, dates, ignore)
    opening = _OPENING_DATE_RE.match(sentence)
    leading = next((iso for ds, _, iso in dates if opening and ds == opening.start(1)), None)
    relative = bool(_RELATIVE.search(sentence))
    planned = bool(_PLANNED.search(sentence))
    out = []
    for t in sorted(slots + extra, key=lambda t: t.start):
        iso = t.date
        if iso is None and leading and t.kind != "deadline" and not any(x.kind == t.kind and x.date for x in slots):
            iso = leading
        out.append(Trigger(t.kind, t.start, t.end, iso, relative and iso is None and t.kind == "in_force", planned))
    return out


def sentence_events(sentence: str, bulletin_date: str | None = None) -> list[tuple[str, str | None]]:
    """The (kind, ISO date or None) events a sentence states, in text order: one per kind and date
    (a kind's undated triggers are one event, and none when the kind also has a dated one)."""
    seen: dict[tuple[str, str | None], None] = {}
    trig = triggers(sentence, bulletin_date)
    dated = {t.kind for t in trig if t.date}
    for t in trig:
        if t.date is None and t.kind in dated:
            continue
        seen.setdefault((t.kind, t.date), None)
    return list(seen)


def actor(sentence: str) -> str | None:
    """The first body the sentence names ("European Parliament", "CNIL", "EU Member States"), or None."""
    m = _BODIES.search(sentence)
    return m.group(0) if m else None
