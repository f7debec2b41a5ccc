"""The asked slot of a question, and the words in a text that can fill it.

A question asks for one kind of fact — an amount of money, a date, a number of things, a
duration, a share, an organisation, a person, a company, a court sentence — or for none in
particular ("what did the consultation propose?"). :func:`asked_slots` reads the slot(s) from the
question's wording; :func:`fillers` finds the spans of a text that state a fact of that kind.
A quote can only answer a "how much was the fine?" question if it contains an amount of money.

All patterns are English. Values the question itself gives ("the 310m fine — how much of it was
for consent?") are not fillers: :func:`question_values` lists them so callers can leave them out.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec")
_MONTH = r"(?:" + "|".join(sorted(_MONTHS.split(), key=len, reverse=True)) + r")\.?"
_NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                 "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
                 "hundred hundreds thousand thousands dozen dozens")
_NUMWORD = r"(?:" + "|".join(_NUMBER_WORDS.split()) + r")"
_NUM = r"\d[\d,]{0,15}(?:\.\d{1,6})?"  # bounded: a long run of "1,1,1,…" must not scan quadratically
_SCALE = r"(?:\s?(?:k|m|bn|mn|thousand|million|billion|trillion)\b)"
_CURRENCY_SIGN = r"(?:[€$£¥₩₹]|R\$|NZ\$|A\$|C\$|US\$|HK\$|S\$)"
_CURRENCY_CODE = r"(?:EUR|USD|GBP|RMB|CNY|CHF|SEK|NOK|DKK|PLN|INR|KRW|JPY|BRL|AUD|NZD|CAD|HKD|SGD|TRY|ZAR|SAR|AED|HUF|CZK|RON)"
_CURRENCY_WORD = r"(?:euros?|dollars?|pounds?(?: sterling)?|yuan|renminbi|francs?|kron(?:a|e|er|or)|won|yen|rupees?|reais|real|zloty)"

MONEY_RE = re.compile(
    rf"(?:{_CURRENCY_SIGN}\s?{_NUM}{_SCALE}?|\b{_CURRENCY_CODE}\s?{_NUM}{_SCALE}?"
    rf"|\b{_NUM}{_SCALE}?\s?(?:{_CURRENCY_CODE}\b|{_CURRENCY_WORD}\b)"
    rf"|\b{_NUM}\s?%\s+of\s+(?:\S+\s+){{0,4}}?(?:turnover|revenue)s?\b"
    rf"|\b{_NUM}{_SCALE}?\s+(?:data retention |administrative |gdpr )?(?:fine|penalty|settlement)s?\b)", re.IGNORECASE)
#: A currency the question asks the amount in ("in dollars", "in GBP"), and how amounts in it are written.
_CURRENCIES = {
    "usd": (r"\b(?:in |into )?(?:usd|us dollars?|dollars?)\b", r"(?:\$|\bUSD\b|\bdollars?\b)"),
    "eur": (r"\b(?:in |into )?(?:eur|euros?)\b", r"(?:€|\bEUR\b|\beuros?\b)"),
    "gbp": (r"\b(?:in |into )?(?:gbp|pounds?(?: sterling)?|sterling)\b", r"(?:£|\bGBP\b|\bpounds?\b)"),
    "cny": (r"\b(?:in |into )?(?:rmb|cny|yuan|renminbi)\b", r"(?:\bRMB|\bCNY\b|\byuan\b|¥)"),
}
PERCENT_RE = re.compile(rf"\b{_NUM}\s?(?:%|per ?cent\b|percent\b)", re.IGNORECASE)
DATE_RE = re.compile(
    rf"(?:\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{4}}\b|\b(?:end|beginning|start|middle) of\s+(?:{_MONTH}|\d{{4}})"
    rf"|\bQ[1-4]\s+\d{{4}}\b|\b(?:H[12]|first half|second half)(?: of)?\s+\d{{4}}\b"
    rf"|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b"
    rf"|\b(?:in|by|from|until|since|before|after|during|of)\s+(?:19|20)\d{{2}}\b"
    rf"|\b(?:early|mid|late|end|beginning|start)[\s-]+(?:of\s+)?(?:19|20)\d{{2}}\b"
    rf"|\b(?:(?:early|late|mid|next|this|last|coming|the)\s+)?(?:spring|summer|autumn|winter)(?:\s+(?:of\s+)?(?:19|20)\d{{2}})?\b"
    rf"|\b(?:(?:later|earlier|early|late)\s+)?(?:this|next|last|the coming)\s+(?:year|month|quarter|week)\b"
    rf"|\b(?:the\s+)?(?:end|beginning|start|middle)\s+of\s+(?:the|this|next)\s+(?:year|month|quarter)\b"
    rf"|\bfall\s+(?:of\s+)?(?:19|20)\d{{2}}\b)", re.IGNORECASE)
DURATION_RE = re.compile(
    rf"\b(?:{_NUM}|{_NUMWORD}|a|an)(?:(?:[\s-]+(?:{_NUMWORD}|and|a|half|to|or)|\s?[–-]\s?{_NUM}|[\s-]+{_NUM})){{0,4}}"
    rf"[\s-]+(?:calendar\s+|working\s+|business\s+)?(?:second|minute|day|week|month|year|hour)s?\b", re.IGNORECASE)
#: A deadline written as a period from an event: "within 48 hours of a valid request".
WITHIN_RE = re.compile(rf"\b(?:within|no later than|in under|at the latest)\s+(?:the\s+(?:next|first)\s+)?"
                       rf"(?:{DURATION_RE.pattern[2:-2]})\b", re.IGNORECASE)
COUNT_RE = re.compile(rf"(?<![\w.,$€£¥])(?:{_NUM}{_SCALE}?|{_NUMWORD}(?:-{_NUMWORD})?)(?![\w%]|\.\d|,\d)", re.IGNORECASE)
#: A length in a document's units: "a 5,000-page DSAR", "a 35-page opinion", "300 words".
LENGTH_RE = re.compile(rf"\b(?:{_NUM}|{_NUMWORD})(?:[\s-]+(?:{_NUMWORD}|to|and))*[\s-]+"
                       rf"(?:pages?|words?|characters?|paragraphs?|chapters?|articles?|sections?|slides?)\b", re.IGNORECASE)
SENTENCE_RE = re.compile(r"\b(?:sentenced|imprison\w*|prison|jail\w*|custod\w*|probation|suspended sentence)\b",
                         re.IGNORECASE)
_YEAR_ONLY = re.compile(r"^(?:19|20)\d{2}$")

#: Words of a capitalised name that make it an authority, a place or an instrument, not a company or person.
ORG_WORDS = frozenset(
    "authority authorities commission commissioner commissioners office ministry agency court tribunal board "
    "council government department administration inspectorate parliament assembly senate house committee "
    "bureau centre center police city province provincial state states municipal federal national regulation "
    "regulations act law laws directive code bill rules guidance guidelines standard standards measures "
    "information data protection privacy security supervisor supervisory attorney general dpa sa european "
    "union republic kingdom investigation report".split())

#: The wording that asks for each slot. Order matters only for readability: every match counts.
_MONEY_TRIGGERS = re.compile(
    r"\bhow much\b(?!\s+(?:up|higher|lower|more|less|bigger|larger|smaller|longer|increase|data|time)\b)"
    r"|\bhow (?:big|large|high|steep|heavy)\b[^?]{0,80}?\b(?:fines?|penalt\w*|damages|compensation|sanctions?)"
    r"|\b(?:what|whats|what's|which)(?:\s+(?:is|are|was|were|the|a|an|s))*(?:\s+(?:max|maximum|minimum|total|"
    r"possible|potential|amount|level|size|of))*\s+(?:fines?|compensation|damages|settlement|amount)\b"
    r"|\b(?:what|whats|what's|which)(?:\s+(?:is|are|was|were|the|a|an|s))*(?:\s+(?:max|maximum|minimum|total|civil|"
    r"criminal|administrative|amount|level|size|of))+\s+(?:penalt\w*|sanctions?)\b"
    r"|\b(?:fine|penalty|penalties|compensation|damages)\s+(?:amounts?|caps?|sizes?|levels?|ceilings?|maximum)\b"
    r"|\bhow much (?:does|do|did|will|would|is|are)\b[^?]{0,60}?\b(?:cost|charge|pay|fee|price)"
    r"|\bwhat (?:does|do|did|will|would) [^?]{1,60}?\b(?:charge|cost)\b"
    r"|\bwhat(?:'s| is| are| was| were)? (?:the )?(?:price|fee|fees|cost|charge|subscription fee)s?\b"
    r"|\b(?:max|maximum|total)\s+(?:civil\s+|criminal\s+|administrative\s+)?(?:fines?|penalt\w*|compensation|damages)\b"
    r"|\bwhat (?:fine|penalty)\b", re.IGNORECASE)
#: "was LinkedIn fined 500m?": an amount stated in a question about a fine asks for that amount.
_CONFIRM_MONEY = re.compile(rf"(?:{_CURRENCY_SIGN}\s?{_NUM}{_SCALE}?|\b{_NUM}{_SCALE})", re.IGNORECASE)
_FINE_WORDS = re.compile(r"\b(?:fine[ds]?|fining|penalt\w*|paid|pay|settle\w*|damages)\b", re.IGNORECASE)
_PERCENT_TRIGGERS = re.compile(
    r"\bwhat (?:percentage|share|proportion|per ?cent|fraction)\b|\bhow much (?:up|higher|lower|more|less|increase)\b"
    r"|\bby how much\b", re.IGNORECASE)
#: "how long is the guide?": the length of a thing, not a period (no verb, no period word after the thing).
_LENGTH_TRIGGERS = re.compile(r"\bhow long (?:is|are|was|were) (?:the |a |an |this |that |its |their )?"
                              r"(?:[\w'’-]+ ){0,3}?(?!period|term|window|phase|transition|delay|wait|retention|process|"
                              r"consultation|deadline|grace|ban|moratorium|suspension|sentence)[\w'’-]+\s*\??\s*$",
                              re.IGNORECASE)
_DURATION_TRIGGERS = re.compile(
    r"\bhow long\b|\b(?:what|which) (?:\w+ )?(?:retention|time|grace|cure|transition\w*|notice) (?:period|limit|frame)\b"
    r"|\bhow many (?:days|weeks|months|years|hours)\b|\bwithin what\b", re.IGNORECASE)
_COUNT_TRIGGERS = re.compile(r"\bhow many\s+(?!days|weeks|months|years|hours)((?:[\w'’-]+\s+){0,3}?[\w'’-]+)"
                             r"(?=\s+(?:are|is|were|was|did|do|does|has|have|had|will|would|can|could|in|on|of|for|"
                             r"at|to|under|got|get|went|came)\b|[?.,]|$)", re.IGNORECASE)
_POPULATION_TRIGGERS = re.compile(r"\b(?:what(?:'s| is| was)? the |how big is the )(population)\b", re.IGNORECASE)
_DATE_TRIGGERS = re.compile(
    r"\bwhen\b|\b(?:what|which|by what|by which) (?:\w+ )?(?:date|day|month|year|deadline)\b|\bdeadl\w*\b|\bclosing date\b"
    r"|\beffective date\b|\b(?:til|till|until) when\b|\bhow soon\b|\bby when\b|\bstart date\b", re.IGNORECASE)
_DATE_EVENTS = {
    "effect": (re.compile(r"\b(?:take[sn]? effect|took effect|taking effect|effective|in(?:to)? force|appl(?:y|ies|ying)|"
                          r"start\w* appl\w*|commenc\w*|kick\w* in|enter\w* into)\b", re.IGNORECASE),
               re.compile(r"\b(?:effect\w*|force|appl(?:y|ies|ied|ying|icable|ication)|commenc\w*|start\w*|"
                          r"from|as of|beginning|begins?|came|comes?|entered|enters?|live|kick\w*)\b", re.IGNORECASE)),
    "close": (re.compile(r"\b(?:clos\w*|deadl\w*|due|respond|responses?|comments?|feedback|submi\w*|expressions? of "
                         r"interest|til when|until when|apply by|end|ends|ending|expir\w*|finish\w*|run out)\b",
                         re.IGNORECASE),
              re.compile(r"\b(?:until|till|clos\w*|deadline|ends?|ending|ended|by|before|due|no later than|runs?|open)\b",
                         re.IGNORECASE)),
}
#: "when is a TC string personal data?", "when must a DPIA be done?": a condition, unless a word of
#: time or of an event says a date is asked ("when is the ISM being published?", "when is it due?").
_CONDITION_WHEN = re.compile(r"\bwhen (?:is|are|isn't|aren't|can|could|must|should|may|might|would|do (?:i|we|you)|"
                             r"does (?:one|a|an)|does (?:the )?(?:gdpr|law|rule|regulation|act))\b", re.IGNORECASE)
_TIME_WORDS = re.compile(r"\b(?:due|deadline|date|expected|scheduled|planned|published|publish|released?|out|launch\w*|"
                         r"held|happen\w*|coming|set|going|issued|adopted|introduced|passed|announced|finali[sz]\w*|"
                         r"start\w*|begin\w*|end\w*|clos\w*|open\w*|effective|force|takes? effect|kick\w* in|"
                         r"apply|applies|applicable|enter\w*|in place|live|year|month|day)\b", re.IGNORECASE)
_SENTENCE_TRIGGERS = re.compile(r"\bwhat sentence\b|\bsentenced?\b[^?]{0,200}\?|\b(?:jail|prison) (?:term|time|sentence)\b",
                                re.IGNORECASE)
_PERSON_TRIGGERS = re.compile(
    r"\bname of (?:the |a |an |this |that )?(?:[\w'’-]+ ){0,5}?(?:director|official|officer|minister|commissioner|ceo|"
    r"chair\w*|head|judge|person|employee|individual|spokes\w+|manager|executive|founder|owner)\b"
    r"|\bwho (?:is|was|are|were) the (?:[\w'’-]+ ){0,3}?(?:director|official|officer|minister|ceo|chair\w*|head|judge)\b",
    re.IGNORECASE)
_COMPANY_TRIGGERS = re.compile(
    r"\b(?:which|what) (?:\w+ )?(?:company|companies|firm|firms|business|businesses|organi[sz]ations?|operator|"
    r"controller|provider|platform|brand)\b|\bcompany(?:'s|’s)? (?:actual |real |full |legal )?name\b"
    r"|\bname of the (?:[\w-]+ ){0,3}?(?:company|firm|business|forum|website|app|platform|product|service)\b", re.IGNORECASE)
_ORG_TRIGGERS = re.compile(r"(?:^|[\s,;:-])(?:who|whom|whose)\b|\bwhich (regulator|authority|agency|body|court|"
                           r"ministry|department|office|dpa|government)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Slot:
    """One asked slot.

    Attributes:
        kind: "money", "percent", "duration", "length", "count", "date", "sentence", "person", "company" or "org".
        label: the asked thing in words, for "No passage states <label>".
        event: for dates, "effect" (takes effect / applies) or "close" (a deadline, an end), else None.
        head: for counts, the counted words ("internet users"), else "".
        currency: for money asked in a currency ("in dollars"), its code (usd, eur, gbp, cny).
    """

    kind: str
    label: str
    event: str | None = None
    head: str = ""
    currency: str | None = None


def asked_slots(question: str) -> list[Slot]:
    """The slots a question asks for, in a stable order; empty when it asks for nothing particular.

    >>> [s.kind for s in asked_slots("how much did the dutch DPA fine clearview AI?")]
    ['money']
    """
    q = question.replace("’", "'")
    out: list[Slot] = []
    if _PERCENT_TRIGGERS.search(q):
        out.append(Slot("percent", "the percentage asked"))
    elif _MONEY_TRIGGERS.search(q) or (_CONFIRM_MONEY.search(q) and _FINE_WORDS.search(q)):
        currency = next((code for code, (asked, _) in _CURRENCIES.items() if re.search(asked, q, re.IGNORECASE)), None)
        label = f"the amount asked in {currency.upper()}" if currency else "the amount asked"
        out.append(Slot("money", label, currency=currency))
    if _LENGTH_TRIGGERS.search(q):
        out.append(Slot("length", "the length asked"))
    elif _DURATION_TRIGGERS.search(q):
        out.append(Slot("duration", "the period asked"))
    m = _COUNT_TRIGGERS.search(q) or _POPULATION_TRIGGERS.search(q)
    if m and not any(s.kind in ("duration", "length") for s in out):
        words = m.group(1).split()
        # the counted noun ends before a verb: "how many state AGs sued tiktok" counts "state AGs"
        cut = next((i for i, w in enumerate(words) if i and w.lower().endswith("ed")), len(words))
        head = " ".join(words[:cut])
        out.append(Slot("count", f"the number of {head}", head=head))
    condition = _CONDITION_WHEN.search(q) and not _TIME_WORDS.search(q)
    if _DATE_TRIGGERS.search(q) and not condition and not any(s.kind in ("duration", "length") for s in out):
        event = next((name for name, (trigger, _) in _DATE_EVENTS.items() if trigger.search(q)), None)
        label = {"effect": "the date it takes effect", "close": "the deadline"}.get(event or "", "the date asked")
        out.append(Slot("date", label, event=event))
    if _SENTENCE_TRIGGERS.search(q):
        out.append(Slot("sentence", "the sentence imposed"))
    if _PERSON_TRIGGERS.search(q):
        out.append(Slot("person", "the person's name"))
    elif m := _COMPANY_TRIGGERS.search(q):
        last = m.group(0).split()[-1].lower()
        head = last if m.group(0).lower().startswith("name of") and last not in ("company", "firm", "business") else ""
        out.append(Slot("company", f"the name of the {head}" if head else "the name asked", head=head))
    elif (m := _ORG_TRIGGERS.search(q)) and not out:
        noun = (m.group(1) or "").lower()
        # "which court": a court's name says "Court"; a regulator or a DPA is named without the word
        head = noun if noun in ("court", "ministry", "department", "office", "authority", "agency", "government") else ""
        out.append(Slot("org", f"which {noun} it was" if head else "who it was", head=head))
    return out


def parse_amount(text: str) -> float | None:
    """The value of a number written with an optional scale ("310m" → 3.1e8, "6.1k" → 6100.0), or None."""
    m = re.search(rf"({_NUM})\s?(k|m|bn|mn|thousand|million|billion|trillion)?\b", text, re.IGNORECASE)
    if not m:
        return None
    try:
        value = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    scale = (m.group(2) or "").lower()
    return value * {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9,
                    "trillion": 1e12}.get(scale, 1.0)


def asserted_amounts(ask: str) -> set[float]:
    """Amounts of money (with a currency or a scale: "€50 million", "500m") stated in the asked part of a question."""
    return {v for m in _CONFIRM_MONEY.finditer(ask) if (v := parse_amount(m.group(0))) is not None}


def question_values(question: str) -> set[float]:
    """Numbers the question itself states (scaled: "900k" → 900000.0), which cannot be its answer."""
    values = set()
    for m in re.finditer(rf"(?<![\w.]){_NUM}{_SCALE}?", question, re.IGNORECASE):
        v = parse_amount(m.group(0))
        if v is not None:
            values.add(v)
    return values


_PATTERNS = {"money": MONEY_RE, "percent": PERCENT_RE, "duration": DURATION_RE, "count": COUNT_RE,
             "date": DATE_RE, "sentence": SENTENCE_RE, "length": LENGTH_RE}


def fillers(slot: Slot, text: str, given: AbstractSet[float] = frozenset(),
            asserted: AbstractSet[float] = frozenset()) -> list[tuple[int, int]]:
    """(start, end) spans of text stating a fact of the slot's kind, values in ``given`` left out.

    ``asserted``: amounts the question puts forward to be confirmed ("was it fined 500m?"): when
    set, only an amount equal to one of them (within 1 %) fills a money slot.

    Names (person, company, org) are found by :mod:`retrieval.answerability.verdicts`, which knows the
    question's words; this function returns [] for them.
    """
    pattern = _PATTERNS.get(slot.kind)
    if pattern is None:
        return []
    spans = []
    matches = list(pattern.finditer(text))
    if slot.kind == "date" and slot.event == "close":  # "within 48 hours of a valid request" is a deadline
        matches += list(WITHIN_RE.finditer(text))
    for m in matches:
        s = m.group(0)
        if slot.kind == "count":
            if _YEAR_ONLY.match(s) or _is_part_of_other(text, m.start(), m.end()):
                continue
        if slot.kind in ("money", "percent", "count", "duration"):
            v = parse_amount(s)
            if v is not None and v in given:
                continue
            if slot.kind == "money" and asserted and not (v and any(abs(v - a) <= 0.01 * a for a in asserted)):
                continue
        if slot.currency and not re.search(_CURRENCIES[slot.currency][1], s, re.IGNORECASE):
            continue
        spans.append((m.start(), m.end()))
    return spans


def _is_part_of_other(text: str, start: int, end: int) -> bool:
    """True when a bare number is part of a date, a money amount or a percentage, or an ordinal label."""
    window = text[max(0, start - 12):end + 12]
    rel = start - max(0, start - 12)
    for pattern in (MONEY_RE, PERCENT_RE, DATE_RE):
        for m in pattern.finditer(window):
            if m.start() <= rel < m.end():
                return True
    before = text[max(0, start - 12):start].lower()
    return bool(re.search(r"(?:article|art\.|section|sec\.|no\.|category|annex|chapter|tier|phase|level|"
                          r"paragraph|para\.|step|part|rule|recital|\()\s*$", before))


def event_window(slot: Slot) -> re.Pattern | None:
    """For a date slot with an event, the words that must stand shortly before the date."""
    if slot.kind != "date" or slot.event is None:
        return None
    return _DATE_EVENTS[slot.event][1]
