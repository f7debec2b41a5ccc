"""The dated events a sentence states about an instrument: draft, adopted, in force, deadline, fine….

:func:`sentence_events` reads one sentence (English trigger words, see :data:`KINDS`) and returns
each event kind it states with the date written next to it, normalised to ISO at the precision
written (``11 March 2025`` → ``2025-03-11``, ``March 2024`` → ``2024-03``, ``in 2019`` → ``2019``),
or None when the sentence gives no date (the bulletin's date then places the event). Who acted
(:func:`actor`) comes from a short list of bodies bulletins name. No model: patterns, measured on a
hand-checked sample in docs/instruments.md.
"""

from __future__ import annotations

import re
from datetime import date as _date

from retrieval.answerability.slots import DATE_RE

#: Event kinds, their trigger words, and a one-word label shown in timelines, in stage order.
KINDS: dict[str, tuple[str, re.Pattern]] = {
    "draft": ("draft", re.compile(r"\bdraft\w*|\bproposals?\b|\bproposed\b|\bfor (?:public )?(?:comment|consultation)s?\b"
                                  r"|\bconsult(?:ation|ed|s)\b|\bpublic comments?\b|\breading\b", re.I)),
    "resolution": ("resolution", re.compile(r"\bresolution\b|\bvot\w* against\b|\bopposed?\b", re.I)),
    "adopted": ("adopted", re.compile(r"\badopt(?:ed|s|ion)\b|\bapprov(?:ed|al|es)\b|\bpassed\b|\benact(?:ed|s)\b"
                                      r"|\bsigned into law\b|\bvot\w* (?:yes|in favou?r)\b|\badequacy decision\b"
                                      r"|\bendorse[ds]?\b|\bratified\b", re.I)),
    "in_force": ("in force", re.compile(r"\b(?:enter(?:s|ed|ing)?|entry|came|comes?) into force\b"
                                        r"|\b(?:will be|is now|are now|now) in force\b"
                                        r"|\btak(?:es?|ing) effect\b|\btook effect\b|\bbec(?:ame|omes?) (?:fully )?applicable\b"
                                        r"|\bappl(?:y|ies) from\b|\beffective (?:from|on|as of)\b|\bgoes live\b", re.I)),
    "deadline": ("deadline", re.compile(r"\bdeadlines?\b|\b(?:open|comments?|feedback|submissions?) (?:is |are )?"
                                        r"(?:open )?until\b|\bno later than\b|\bdue by\b", re.I)),
    "guidance": ("guidance", re.compile(r"\bguidelines?\b|\bguidance\b|\bQ&A\b|\bFAQs?\b|\bcode of practice\b"
                                        r"|\bopinion\b|\bwhite paper\b", re.I)),
    "fine": ("fine", re.compile(r"\bfine[ds]?\b|\bfining\b|\bpenalt(?:y|ies)\b|\bsanction(?:ed|s)?\b", re.I)),
    "challenged": ("challenged", re.compile(r"\bchalleng(?:e|ed|es|ing)\b|\blawsuit\b|\bappeal(?:ed|s)?\b", re.I)),
    "amended": ("amended", re.compile(r"\bamend(?:ed|ment|ments|s|ing)\b|\brevis(?:ed|ion)\b", re.I)),
    "repealed": ("repealed", re.compile(r"\brepeal(?:ed|s)?\b|\brevok(?:ed|es)\b|\bannul(?:led|s)\b|\binvalidat(?:ed|es)\b"
                                        r"|\bstruck down\b|\bwithdrawn\b", re.I)),
}
#: Kinds whose trigger words, when present, mean an "adopted" word is about something else
#: ("adopted a resolution", "approved the draft", "adopted guidelines", "a decision fining").
_MASKS_ADOPTED = ("draft", "resolution", "guidance", "fine")
#: How far a stage goes: a later event of a higher stage supersedes an earlier item.
STAGE = {"draft": 0, "resolution": 1, "adopted": 2, "in_force": 3, "amended": 4, "repealed": 5}

_BODIES = re.compile(
    r"\b(?:European Commission|European Parliament|Council of the EU|Council|EDPB|EDPS|European AI Office|AI Office"
    r"|CNIL|ICO|FTC|Ofcom|CPPA|DPC|AEPD|Garante|Datatilsynet|IMY|CAC|Cyberspace Administration of China|NPC"
    r"|National People's Congress|State Council|MIIT|Ministry of Public Security|TC260"
    r"|National Information Security Standardization Technical Committee|EU Member States|member states"
    r"|Member States|Bundestag|Bundesrat|Parliament|Senate|House|Governor|NOYB|noyb|CJEU|Court of Justice)\b")
_URL_RE = re.compile(r"\bhttps?://[^\s)\]]+")
#: A sentence opening with its date: "On 22 August 2019, …", "As of April 11, 2025, …" (group 1: the date).
_OPENING_DATE_RE = re.compile(r"\W*(?:On|As of|Since)\s+(\S.{4,30}?),")
_MONTH_NUM = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_MONTH_NUM.update({m[:3]: n for m, n in list(_MONTH_NUM.items())})
_MONTH_NUM["sept"] = 9


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


def sentence_events(sentence: str, bulletin_date: str | None = None) -> list[tuple[str, str | None]]:
    """The (kind, ISO date or None) events a sentence states, one per kind, in :data:`KINDS` order.

    A kind's date is the first date written within 60 characters after one of its trigger words in
    the same clause, else the nearest one within 60 characters before it (the first trigger with a
    date wins), else the date the sentence opens with ("On 22 August 2019, …"). Links (``https://…``)
    are read as blanks: their words are no trigger and their digits no date.
    """
    sentence = _URL_RE.sub(lambda m: " " * len(m.group(0)), sentence)  # a link's words state nothing
    dates = [(m.start(), m.end(), normalise_date(m.group(0), bulletin_date)) for m in DATE_RE.finditer(sentence)]
    dates = [d for d in dates if d[2]]
    opening = _OPENING_DATE_RE.match(sentence)
    leading = next((d[2] for d in dates if opening and d[0] == opening.start(1)), None)
    present = {k: list(rx.finditer(sentence)) for k, (_, rx) in KINDS.items()}
    out: list[tuple[str, str | None]] = []
    for kind, found in present.items():
        if not found or (kind == "adopted" and any(present[k] for k in _MASKS_ADOPTED)):
            continue
        when = None
        for trigger in found:  # the first trigger with a date written next to it
            after = [d for d in dates if 0 <= d[0] - trigger.end() <= 60
                     and not re.search(r"[;:]| and ", sentence[trigger.end():d[0]])]
            before = [d for d in dates if 0 <= trigger.start() - d[1] <= 60]
            when = after[0][2] if after else (before[-1][2] if before else None)
            if when:
                break
        out.append((kind, when or leading))
    return out


def actor(sentence: str) -> str | None:
    """The first body the sentence names ("European Parliament", "CNIL", "EU Member States"), or None."""
    m = _BODIES.search(sentence)
    return m.group(0) if m else None
