"""Digest subscriptions: what a subscription's text becomes (an instrument or a topic), and which items match.

A channel subscribes with free text (``/bulletin subscribe PIPL``, ``/bulletin subscribe facial recognition``):

- an **instrument** when the instrument table of the generation in force resolves the text — a name,
  alias, acronym, key or official number ("PIPL", "AI Act", "DPF", "Regulation (EU) 2016/679"; case
  and spacing ignored, :meth:`retrieval.instruments.timeline.InstrumentIndex.resolve`); stored as its key;
- otherwise a **topic**: stored as its words (:func:`normalise_topic`); when it is close to an
  instrument's name (:func:`near_instruments`), the reply names the nearest instruments.

An item matches (every passage of the item is looked at):

- an instrument subscription when the item is *about* the instrument (the item's title or first
  sentence names it, or it names it twice or more: :meth:`~retrieval.instruments.timeline.InstrumentIndex.instruments_of`);
- a topic subscription when **every** word of the topic is a word of the item's title, its section
  heading or its text, in any order and anywhere. A *word* is a maximal run of letters and digits
  (Unicode; punctuation, hyphens, apostrophes and underscores separate words), compared after NFKC
  normalisation and case folding — whole words, no stemming: "facial recognition" matches
  "Facial-recognition cameras" and "recognition of facial images", not "facially"; "fine" does not
  match "fines".

A channel with subscriptions gets the new items matching **any** of them; one without gets every new item.
Pure functions over the store and the instrument index; nothing here imports Slack.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.state.protocol import MAX_SUBSCRIPTION_CHARS, Subscription
from retrieval.chunking import Passage
from retrieval.instruments.timeline import InstrumentIndex

#: Subscriptions one channel may have at most.
MAX_PER_CHANNEL = 50
#: Labels the digest's "Filtered to your subscriptions" line names before "and N more".
MAX_LABELS_SHOWN = 10
#: How close (difflib's ratio, or word overlap) a topic must be to an instrument's name to name it back.
NEAR_CUTOFF = 0.8

_WORD = re.compile(r"[^\W_]+")
#: Words of instrument names that say what kind of instrument it is, not which one.
_GENERIC = frozenset("act acts law laws regulation regulations directive bill ordinance measures code rules "
                     "the a an of on for and to in".split())
_QUOTES = "\"'“”‘’«»`"


class SubscriptionError(ValueError):
    """A subscription text that cannot be used; the message is one sentence for the person who typed it."""


def words(text: str) -> list[str]:
    """The words of ``text`` as subscriptions compare them: runs of letters and digits, NFKC, case-folded."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalise_topic(text: str) -> str:
    """A topic as stored and shown: its words (:func:`words`) once each, in order, joined by one space."""
    return " ".join(dict.fromkeys(words(text)))


def item_words(passages: Iterable[Passage]) -> set[str]:
    """Every word of an item: its title, its section heading and the text of its passages."""
    out: set[str] = set()
    for p in passages:
        for part in (p.citation.item_title, p.citation.section, p.text):
            if part:
                out.update(words(part))
    return out


@dataclass(frozen=True)
class Target:
    """What a subscription text means: ``kind`` "instrument" (``value`` its key) or "topic" (``value`` its
    words); ``near``: for a topic, the names of the instruments closest to the text (maybe none)."""

    kind: str
    value: str
    near: tuple[str, ...] = ()


def parse_target(text: str, instruments: InstrumentIndex) -> Target:
    """The instrument (tried first) or topic that ``text`` names (surrounding quotes and spaces ignored).

    Raises:
        SubscriptionError: the text is empty, longer than :data:`~bot.state.protocol.MAX_SUBSCRIPTION_CHARS`,
            or has no letter or digit.
    """
    text = " ".join((text or "").split()).strip(_QUOTES + " ")
    if not text:
        raise SubscriptionError("Name an instrument (its name or acronym, e.g. PIPL) or a topic "
                                "(a few words, e.g. facial recognition).")
    if len(text) > MAX_SUBSCRIPTION_CHARS:
        raise SubscriptionError(f"That is {len(text)} characters; a subscription is at most {MAX_SUBSCRIPTION_CHARS}: "
                                "use an instrument's acronym or a few words of a topic.")
    key = instruments.resolve(text)
    if key is not None:
        return Target("instrument", key)
    topic = normalise_topic(text)
    if not topic:
        raise SubscriptionError(f"“{text}” has no letters or digits to look for; a topic is one or more words.")
    if len(topic) > MAX_SUBSCRIPTION_CHARS:
        raise SubscriptionError(f"That topic is {len(topic)} characters once normalised; a subscription is at most "
                                f"{MAX_SUBSCRIPTION_CHARS}.")
    return Target("topic", topic, tuple(near_instruments(text, instruments)))


def near_instruments(text: str, instruments: InstrumentIndex, n: int = 3) -> list[str]:
    """Up to ``n`` names of instruments whose name or an alias is close to ``text``, closest first.

    Close means, leaving out the words every instrument name has (:data:`_GENERIC`: act, law, of…):
    the text's words are all words of the name and more than half of them ("privacy framework" →
    "Data Privacy Framework", "AI" → "AI Act"; not "privacy" → "Privacy Shield"); or the name's
    words, all of them, are in the text ("GDPR fines" → GDPR); or difflib's ratio of the two is at
    least :data:`NEAR_CUTOFF` ("Digital Servises Act" → "Digital Services Act").
    """
    want = words(text)
    if not want:
        return []
    want_set, joined = set(want), " ".join(want)
    want_own = want_set - _GENERIC
    scores: dict[str, float] = {}
    for inst in instruments.table.instruments.values():
        for form in (inst.name, *inst.aliases):
            got = words(form)
            if not got:
                continue
            got_set = set(got)
            got_own = got_set - _GENERIC
            if want_own and want_own <= got_own and 2 * len(want_own) > len(got_own):
                score = 1.0
            elif got_set <= want_set:
                score = 0.9
            else:
                score = difflib.SequenceMatcher(None, joined, " ".join(got)).ratio()
            if score >= NEAR_CUTOFF and score > scores.get(inst.name, 0.0):
                scores[inst.name] = score
    return [name for name, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))][:n]


# -- labels -------------------------------------------------------------------------------------
def describe(kind: str, value: str, instruments: InstrumentIndex) -> str:
    """``the instrument Personal Information Protection Law (PIPL)`` or ``the topic “facial recognition”``."""
    if kind == "instrument":
        return f"the instrument {instruments.table.name_of(value)}"
    return f"the topic “{value}”"


def short_label(kind: str, value: str, instruments: InstrumentIndex) -> str:
    """A subscription in a list: an instrument's acronym when its name ends in one ("PIPL"), else its
    name; a topic in quotes ("“facial recognition”")."""
    if kind != "instrument":
        return f"“{value}”"
    name = instruments.table.name_of(value)
    inst = instruments.table.instruments.get(value)
    m = re.fullmatch(r"(.*\S)\s*\(([^()]+)\)", name)
    if m and inst is not None and m.group(2) in inst.aliases:
        return m.group(2)
    return name


def labels(subs: Sequence[Subscription], instruments: InstrumentIndex, limit: int | None = None) -> str:
    """The subscriptions' short labels joined by commas ("PIPL, “facial recognition”"), at most ``limit``
    of them then "and N more"."""
    shown = [short_label(s.kind, s.value, instruments) for s in subs]
    if limit is not None and len(shown) > limit:
        shown = shown[:limit] + [f"and {len(subs) - limit} more"]
    return ", ".join(shown)


# -- matching ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscriptionFilter:
    """Which items a channel's subscriptions keep (see the module docstring for the rules)."""

    instruments: frozenset[str]
    topics: tuple[frozenset[str], ...]
    index: InstrumentIndex

    @classmethod
    def of(cls, subs: Iterable[Subscription], index: InstrumentIndex) -> "SubscriptionFilter":
        """The filter of a channel's subscriptions, against the instruments of the generation in force."""
        subs = list(subs)
        return cls(frozenset(s.value for s in subs if s.kind == "instrument"),
                   tuple(frozenset(words(s.value)) for s in subs if s.kind == "topic"), index)

    def matches(self, item: Sequence[Passage]) -> bool:
        """True when the item (all its passages) is about a subscribed instrument or has every word of a topic."""
        if self.instruments and any(k in self.instruments for p in item for k in self.index.instruments_of(p.citation)):
            return True
        if self.topics:
            found = item_words(item)
            return any(topic and topic <= found for topic in self.topics)
        return False


# -- changes (shared by the slash command and the command line) ---------------------------------
@dataclass(frozen=True)
class Change:
    """What :func:`add` or :func:`remove` did: ``status`` "added", "already", "full" (the channel has
    :data:`MAX_PER_CHANNEL`), "removed" or "missing" (no such subscription), to ``target``."""

    status: str
    target: Target


def add(store, channel: str, text: str, user: str | None, instruments: InstrumentIndex) -> Change:
    """Subscribe ``channel`` to what ``text`` names (:func:`parse_target`).

    Raises:
        SubscriptionError: the text cannot be a subscription.
    """
    target = parse_target(text, instruments)
    existing = store.subscriptions(channel)
    if any((s.kind, s.value) == (target.kind, target.value) for s in existing):
        return Change("already", target)
    if len(existing) >= MAX_PER_CHANNEL:
        return Change("full", target)
    return Change("added" if store.subscribe(channel, target.kind, target.value, user) else "already", target)


def remove(store, channel: str, text: str, instruments: InstrumentIndex) -> Change:
    """Unsubscribe ``channel`` from what ``text`` names: the instrument or topic it resolves to, else a
    subscription whose key, name, acronym or topic has the same words (a topic typed before an alias
    existed, an instrument no longer in the table).

    Raises:
        SubscriptionError: the text cannot be a subscription.
    """
    target = parse_target(text, instruments)
    if store.unsubscribe(channel, target.kind, target.value):
        return Change("removed", target)
    typed = normalise_topic(text)
    for s in store.subscriptions(channel):
        forms = {s.value, short_label(s.kind, s.value, instruments)}
        if s.kind == "instrument":
            forms.add(instruments.table.name_of(s.value))
        if typed in {normalise_topic(f) for f in forms} and store.unsubscribe(channel, s.kind, s.value):
            return Change("removed", Target(s.kind, s.value))
    return Change("missing", target)


def change_sentence(change: Change, where: str, instruments: InstrumentIndex, remaining: Sequence[Subscription],
                    esc: Callable[[str], str] = str) -> str:
    """What to tell the person who made ``change`` to the channel named ``where`` (``<#C123>`` in Slack);
    ``remaining``: the channel's subscriptions afterwards; ``esc`` escapes names for the surface."""
    what = esc(describe(change.target.kind, change.target.value, instruments))
    now = esc(labels(remaining, instruments))
    if change.status == "added":
        text = f"Subscribed {where} to {what}."
        if change.target.kind == "topic":
            text = text[:-1] + ": new items whose title, section or text contain all of its words."
            if change.target.near:
                names = ", ".join(esc(n) for n in change.target.near)
                text += (f" It is close to the instrument{'s' if len(change.target.near) > 1 else ''} {names}: "
                         "if you meant an instrument, subscribe to it by its name or acronym and unsubscribe "
                         "from the topic.")
        return text + f" From the next digest, {where} gets only the new items matching: {now}."
    if change.status == "already":
        return f"{where} is already subscribed to {what}. It gets only the new items matching: {now}."
    if change.status == "full":
        return (f"{where} already has {len(remaining)} subscriptions, the most a channel may have; "
                "unsubscribe from one first.")
    if change.status == "removed":
        rest = (f" It still gets only the new items matching: {now}." if remaining
                else " It has no subscriptions left: its digest lists every new item.")
        return f"Unsubscribed {where} from {what}.{rest}"
    rest = (f" Its subscriptions: {now}." if remaining else " It has no subscriptions: its digest lists every new item.")
    return f"{where} is not subscribed to {what}.{rest}"


def listing_lines(subs: Sequence[Subscription], instruments: InstrumentIndex,
                  who: Callable[[str], str] = str, esc: Callable[[str], str] = str) -> list[str]:
    """One line per subscription: ``the instrument X (added 2025-06-01 by U123)``; ``who`` names a user."""
    out = []
    for s in subs:
        day = datetime.fromtimestamp(s.created_at, timezone.utc).date().isoformat()
        by = f" by {who(s.created_by)}" if s.created_by else ""
        out.append(f"{esc(describe(s.kind, s.value, instruments))} (added {day}{by})")
    return out


def table_only() -> InstrumentIndex:
    """An instrument index with the alias table alone (nothing indexed yet): names still resolve."""
    from retrieval.instruments.names import InstrumentTable

    return InstrumentIndex(InstrumentTable.load(), {}, [])
