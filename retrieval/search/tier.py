"""The reply tier and the per-hit labels, decided in one place so that every rendering agrees.

:func:`settle` turns the judged hits of one search into the answer's tier, its headline's missing
thing and the final hits (order and labels). It is the only code that sets them, and it keeps four
invariants, which :func:`violations` checks (the property tests and ``eval`` run it on every answer):

1. **A headline tells the truth about the quotes**: "No passage mentions X" is never shown when a
   shown quote (or its citation's headings) names X — case, accents, whitespace and the bulletin's own
   definitions considered (:func:`retrieval.answerability.verdicts.mentions`); the headline then says what no
   passage *states* instead, or makes no claim.
2. **Tier and labels agree**: in the "answers" tier the first hit answers; in "related" and "nothing"
   no hit is labelled as answering. Renderings read :meth:`retrieval.search.answer.Answer.label` only.
3. **An answering hit leads**: when a lower hit states what was asked and the first does not, the
   answering hit is moved first (ranks renumbered).
4. **No answering hit is about another party**: a hit labelled as answering names every named thing
   of the question, in its quote, its headings, or the paragraphs of its item the verdict read.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

from retrieval.answerability.names import Lexicon
from retrieval.answerability.verdicts import Question, _vocabulary, mentions

from .answer import Hit


def _headings(hit: Hit) -> str:
    c = hit.citation
    return "\n".join(p for p in (c.bulletin, c.section, c.item_title, getattr(c, "publisher", None), c.url) if p)


def quote_mentions(hit: Hit, word: str, question: Question, lexicon: Lexicon | None) -> bool:
    """True when the hit's quote (or its headings) names the question's named thing ``word``."""
    entity = next((e for e in question.entities if e.word == word), None)
    if entity is None:
        return False
    text = hit.text + "\n" + _headings(hit)
    folded, words = _vocabulary(text)
    defined = lexicon.defined_forms(entity.word, hit.citation.source_file) if lexicon is not None else set()
    return mentions(entity, folded, words, text, tuple(defined))


def _entity_of(missing: str | None) -> str | None:
    """The named thing of a "“x”" missing, else None (a slot label, or nothing)."""
    if missing and missing.startswith("“") and missing.endswith("”"):
        return missing[1:-1]
    return None


#: A lower hit moved first (invariant 3) gives the "answers" tier only when its fused score is within this
#: of the first hit's; further down, a lower item states the asked kind of fact by chance more often than
#: not (dev3 tuning part: of 18 moves, the 4 right ones were within 0.03 and at 0.22/0.18; 11 of the 14 wrong
#: ones beyond 0.07). It still leads, labelled "related".
PROMOTE_GAP = 0.03


def settle(hits: Sequence[Hit], question: Question, *, off_topic: bool, confident: bool, offset: int = 0,
           first_answers: bool | None = None, lexicon: Lexicon | None = None,
           promote_gap: float = PROMOTE_GAP,
           item_mentions: Callable[[Hit, str], bool] | None = None) -> tuple[str, str | None, list[Hit]]:
    """(tier, missing, hits) for one search, the invariants of the module doc kept.

    Args:
        hits: the shown hits, best first, each with its own verdict (``answers``, ``missing``; a quote
            of links only has answers False).
        question: what the question asks (:func:`retrieval.answerability.verdicts.analyse`).
        off_topic: the best cosine is under the off-topic floor: the tier is "nothing".
        confident: the calibrated margin/coverage rule passes (:class:`retrieval.calibration.Calibration`).
        offset: hits skipped before these ("more results"): the tier is then the first page's, given
            by ``first_answers`` (the verdict of the first item of all), and nothing is moved.
        lexicon: the generation's corpus statistics, for the bulletins' own definitions.
        promote_gap: see :data:`PROMOTE_GAP`.
        item_mentions: (hit, named thing) -> whether the hit's item names it (default: its quote or
            headings); a hit said to answer that does not is not labelled so (invariant 4).
    """
    hits = list(hits)
    if not hits:
        return ("nothing", None, [])
    names = item_mentions or (lambda h, w: quote_mentions(h, w, question, lexicon))
    for i, h in enumerate(hits):  # invariant 4: an answering hit names every named thing asked
        absent = next((e.word for e in question.entities if h.answers and not names(h, e.word)), None)
        if absent is not None:
            hits[i] = dataclasses.replace(h, answers=False, missing=f"“{absent}”")
    if off_topic:
        return ("nothing", None, [dataclasses.replace(h, answers=False, missing=None) for h in hits])
    if offset == 0:
        lead = next((i for i, h in enumerate(hits) if h.answers), None)
        first_answers = lead is not None
        if lead is not None and lead > 0:  # invariant 3: the answering hit leads
            first_answers = hits[0].score - hits[lead].score <= promote_gap
            hits = [hits[lead]] + hits[:lead] + hits[lead + 1:]
            hits = [dataclasses.replace(h, rank=i + 1) for i, h in enumerate(hits)]
    tier = "answers" if first_answers and confident else "related"
    if tier != "answers":  # invariant 2: no hit answers in the related tier
        hits = [dataclasses.replace(h, answers=False) if h.answers else h for h in hits]
        return (tier, _true_missing(hits, question, lexicon), hits)
    return (tier, None, hits)


def _true_missing(hits: list[Hit], question: Question, lexicon: Lexicon | None) -> str | None:
    """The first hit's missing thing, or the next hit's, that no shown quote contradicts (invariant 1)."""
    for h in hits:
        word = _entity_of(h.missing)
        if word is None:
            if h.missing is not None:
                return h.missing
            continue
        if not any(quote_mentions(o, word, question, lexicon) for o in hits):
            return h.missing
    # each named thing is in some quote, but none states the asked fact with all of them
    return question.slots[0].label if question.slots else None


def violations(tier: str, missing: str | None, hits: Sequence[Hit], question: Question,
               lexicon: Lexicon | None = None,
               item_mentions: Callable[[Hit, str], bool] | None = None) -> list[str]:
    """The invariants of the module doc that an answer breaks, one sentence each ([] when none).

    ``item_mentions(hit, word)``: whether the hit's whole item names ``word`` (the verdict reads more
    than the quote); default: its quote and headings only.
    """
    out = []
    word = _entity_of(missing)
    if word is not None:
        for h in hits:
            if quote_mentions(h, word, question, lexicon):
                out.append(f"headline says no passage mentions “{word}” but hit {h.rank} does")
    if tier == "answers" and hits and not hits[0].answers:
        out.append("tier 'answers' but the first hit is not labelled as answering")
    if tier != "answers" and any(h.answers for h in hits):
        out.append(f"tier {tier!r} but a hit is labelled as answering")
    if tier == "answers" and hits and not hits[0].answers and any(h.answers for h in hits[1:]):
        out.append("a lower hit answers and the first does not, yet it does not lead")
    names = item_mentions or (lambda h, w: quote_mentions(h, w, question, lexicon))
    for h in hits:
        if h.answers:
            for e in question.entities:
                if not names(h, e.word):
                    out.append(f"hit {h.rank} is labelled as answering but names no “{e.word}”")
    return out
