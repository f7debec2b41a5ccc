"""Pure rendering: an :class:`~retrieval.search.answer.Answer` → Block Kit blocks + a plain ``text`` fallback.

Every quoted passage and every echoed question is escaped (``&`` ``<`` ``>``), so corpus text such as
``<!channel>``, ``<@U123>`` or ``<https://evil|gov.cn>`` shows as text and never pings anyone or
disguises a link; quotes are also sent with ``verbatim: true`` so Slack does not auto-link names.

Slack's limits (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks per message,
3,000 characters in a section's text, 10 elements in a context block; Slack rejects a message whose
blocks hold much more than ~12,000 characters (``msg_blocks_too_long``), so all the text in one
message's blocks is kept within :data:`MAX_MESSAGE_CHARS`. A quote that does not fit is cut at a word
boundary with an ellipsis and a link to the source, never dropped silently and never sent too long.

Incoming text arrives with ``&amp; &lt; &gt;`` escaped and with ``<@U…>`` / ``<#C…|name>`` /
``<url|label>`` markup: :func:`clean_query` turns it into the plain query the search sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval.instruments.view import kind_label, placed
from retrieval.search.answer import Answer, Hit

from .citations import render_citation
from .mrkdwn import _format_quote, escape, quote, shorten, unescape

#: At most this many blocks in a message (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
#: At most this many characters in a section block's text (same page).
MAX_SECTION_CHARS = 3000
#: At most this many elements in a context block (https://api.slack.com/reference/block-kit/blocks#context).
MAX_CONTEXT_ELEMENTS = 10
#: Text characters kept across all blocks of one message (Slack fails beyond ~12,000: msg_blocks_too_long).
MAX_MESSAGE_CHARS = 11_000
#: The plain ``text`` fallback (notifications, screen readers) is kept this short.
MAX_FALLBACK_CHARS = 3000
#: Button text ≤ 75 and value ≤ 2000 characters (https://api.slack.com/reference/block-kit/block-elements#button).
MAX_BUTTON_VALUE = 2000
#: A question echoed back is cut to this many characters.
MAX_ECHO_CHARS = 300
#: The smallest share of the budget worth giving a quote; fewer hits are shown rather than smaller ones.
MIN_QUOTE_CHARS = 300

ACTION_UP = "feedback_up"
ACTION_DOWN = "feedback_down"
ACTION_MORE = "more_results"
ACTION_SHARE = "share_answer"

USAGE = ("Ask me about the regulatory bulletins and I quote the passages that answer, with citations.\n"
         "• Mention me in a channel: `@bulletin-bot what fines did the CNIL impose?` (I answer in the thread)\n"
         "• Send me a direct message with your question\n"
         "• `/bulletin your question` answers privately, with a button to share the answer in the channel\n"
         "• `/bulletin subscribe PIPL` (an instrument) or `/bulletin subscribe facial recognition` (a topic): this "
         "channel's daily digest then lists only the new items matching its subscriptions "
         "(`/bulletin subscriptions` lists them, `/bulletin unsubscribe …` removes one)\n"
         "• `/bulletin timeline AI Act` follows a law through the bulletins: what they report about it, "
         "oldest first (`/bulletin timeline` lists the laws)")


@dataclass(frozen=True)
class Message:
    """A Slack message: ``blocks`` (Block Kit dicts) and the plain ``text`` fallback sent beside them."""

    text: str
    blocks: list[dict] = field(default_factory=list)
    passage_ids: tuple[int, ...] = ()

    def kwargs(self) -> dict:
        """``{"text": …, "blocks": …}`` for ``chat.postMessage`` or ``respond``."""
        return {"text": self.text, "blocks": self.blocks}



def _share(budgets: list[int], total: int, cap: int) -> list[int]:
    """Water-filling: each wants budgets[i]; short ones get what they need, long ones share the rest (≤ cap)."""
    out = [0] * len(budgets)
    left, remaining = total, len(budgets)
    for i in sorted(range(len(budgets)), key=lambda i: budgets[i]):
        fair = left // remaining
        out[i] = min(budgets[i], fair, cap)
        left -= out[i]
        remaining -= 1
    return out


def similarity(hit: Hit) -> float:
    """The score shown: the cosine similarity in [-1, 1] between question and passage (``hit.cosine``
    when the search fuses scores, else ``hit.score``, which is then that cosine)."""
    return float(hit.score if hit.cosine is None else hit.cosine)


def passage_ids(hit: Hit) -> tuple[int, ...]:
    """Ids of the indexed passages a hit quotes (``hit.passage_ids`` when the span has several)."""
    return tuple(int(i) for i in (hit.passage_ids or (hit.passage.id,)))


def citation_line(hit: Hit) -> str:
    """mrkdwn: ``*[rank]* <url|bulletin> · date · section · item N: title · p. 3 · ¶N · similarity 0.62``, escaped
    (``p. 3`` only for a citation with a page)."""
    return render_citation(hit.citation, rank=hit.rank, similarity=similarity(hit))


# -- messages -----------------------------------------------------------------------------------
def section_block(text: str, verbatim: bool = False) -> dict:
    """A Block Kit section with mrkdwn text (``verbatim``: Slack does not auto-link it); the caller keeps it ≤ 3,000 chars."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": verbatim}}


def context_block(*texts: str) -> dict:
    """A Block Kit context block of mrkdwn elements, at most MAX_CONTEXT_ELEMENTS of them."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts[:MAX_CONTEXT_ELEMENTS]]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True}, "action_id": action_id,
         "value": value[:MAX_BUTTON_VALUE]}
    if style:
        b["style"] = style
    return b


def message_chars(blocks: list[dict]) -> int:
    """All the characters of text in the blocks (every ``text`` string, nested), as counted against the limit."""
    total = 0

    def walk(node) -> None:
        nonlocal total
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "text" and isinstance(v, str):
                    total += len(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return total


def _strong(text: str) -> str:
    """mrkdwn bold: how Slack marks the words :meth:`~retrieval.search.answer.Answer.headline` emphasises."""
    return f"*{text}*"


def _shown(text: str) -> str:
    """The user's words (the query, what is missing) as a headline shows them: shortened, escaped."""
    return escape(shorten(text, MAX_ECHO_CHARS))


def button_value(answer_id: int, offset: int = 0, query: str | None = None) -> str:
    """A "More results" / "Share in channel" value: ``"<answer_id>:<offset>"``, plus ``":<query>"`` when the
    store does not keep the question (``LOG_QUESTIONS`` off: the button carries it, escaped as Slack text is, and
    cut to the value's limit at a whole character entity)."""
    value = f"{answer_id}:{offset}"
    if query is None:
        return value
    value = f"{value}:{escape(query)}"
    if len(value) > MAX_BUTTON_VALUE:
        value = value[:MAX_BUTTON_VALUE]
        amp = value.rfind("&", len(value) - 5)
        value = value[:amp] if amp >= 0 and ";" not in value[amp:] else value
    return value


def parse_button_value(value: str | None) -> tuple[int, int, str | None]:
    """``(answer_id, offset, query or None)`` of a :func:`button_value` (or of an older ``"<answer_id>"``).

    Raises:
        ValueError: the value does not start with an answer id.
    """
    answer_id, _, rest = (value or "").partition(":")
    offset, sep, query = rest.partition(":")
    return int(answer_id), int(offset or 0), unescape(query) if sep else None


def render_answer(answer: Answer, *, answer_id: int | None = None, offset: int = 0, more: bool = False,
                  share: bool = False, shared_by: str | None = None, query: str | None = None) -> Message:
    """Blocks and fallback text for an answer.

    Args:
        answer: a :class:`~retrieval.search.answer.Answer` (its hits are quoted, best first).
        answer_id: the stored answer's id; when given, 👍/👎 buttons (and "More results") carry it.
        offset: how many hits earlier pages showed (a "More results" page has offset > 0).
        more: offer a "More results" button (value ``"<answer_id>:<next offset>"``).
        share: offer a "Share in channel" button (for private, slash-command answers).
        shared_by: user id who shared the answer in a channel, credited in a context line.
        query: the question, carried by the "More results" and "Share" buttons when the store does not keep it.

    Returns:
        A :class:`Message` within every Slack limit whatever the passage lengths: the hits that
        fit (at most 23), each quote cut to its share of :data:`MAX_MESSAGE_CHARS`.
    """
    hits = list(answer.hits)
    cutoff = answer.cutoff_line()
    dated = [context_block(f":calendar: {escape(cutoff)}")] if cutoff else []
    if not hits or (answer.tier == "nothing" and not offset):  # nothing to quote: the headline alone
        headline = answer.headline(quotes=False, strong=_strong, show=_shown) + "."
        if answer.none_dated:  # the headline states the cut-off itself
            return Message(_plain(headline), [section_block(headline), context_block(escape(USAGE.splitlines()[0]))])
        text = _plain(headline) + (f"\n{escape(cutoff)}." if cutoff else "")
        return Message(text, [section_block(headline), *dated, context_block(escape(USAGE.splitlines()[0]))])
    headline = answer.headline(more=bool(offset), strong=_strong, show=_shown)
    headline = headline + " (verbatim quotes):" if answer.answered else f":warning: {headline}."
    tail: list[dict] = []
    footer = ["Verbatim quotes from the bulletins · similarity: cosine between question and passage, −1 to 1"]
    filters = {k: v for k, v in answer.filters.items() if not (cutoff and k == "as_of")}
    if filters:  # the as_of cut-off has its own line, under the headline
        footer.append("Filters: " + escape(shorten(" ".join(f"{k}:{v}" for k, v in sorted(filters.items())), 500)))
    if shared_by:
        footer.insert(0, f"Shared by <@{escape(shared_by)}>")
    tail.append(context_block(*footer))
    buttons = []
    if answer_id is not None:
        buttons += [_button("👍 Helpful", ACTION_UP, str(answer_id)),
                    _button("👎 Not helpful", ACTION_DOWN, str(answer_id))]
        if more:
            buttons.append(_button("More results", ACTION_MORE, button_value(answer_id, offset + len(hits), query)))
        if share:
            buttons.append(_button("Share in channel", ACTION_SHARE, button_value(answer_id, 0, query),
                                   style="primary"))
    if buttons:
        tail.append({"type": "actions", "elements": buttons})

    head = [section_block(headline), *dated]
    citations = [context_block(*_labelled(answer, h), *later_lines(h)) for h in hits]
    fixed = message_chars(head) + message_chars(tail)
    room = MAX_MESSAGE_CHARS - fixed
    max_hits = (MAX_BLOCKS - len(head) - len(tail)) // 2
    hits = hits[:max_hits]
    while len(hits) > 1 and (room - sum(message_chars([c]) for c in citations[: len(hits)])) // len(hits) < MIN_QUOTE_CHARS:
        hits.pop()
    citations = citations[: len(hits)]
    quote_room = room - message_chars(citations)
    wanted = [len(_format_quote(h.text, h.highlight)) for h in hits]
    budgets = _share(wanted, quote_room, MAX_SECTION_CHARS)
    body: list[dict] = []
    for hit, budget, cite in zip(hits, budgets, citations):
        c = hit.citation
        body.append(section_block(quote(hit.text, budget, hit.highlight, c.url, c.source_file), verbatim=True))
        body.append(cite)
    blocks = head + body + tail
    return Message(fallback_text(answer, hits, offset), blocks, tuple(i for h in hits for i in passage_ids(h)))


#: A later development's quote is cut to this many characters (with "…") in an answer's citation line.
MAX_LATER_QUOTE = 200


def later_lines(hit: Hit) -> list[str]:
    """Context-element texts marking a hit whose instrument later bulletins report on (newest first):
    ``:fast_forward: Later development: 2024-08 · in force — “…” · <url|bulletin> · date · item``;
    none when the hit has no ``later`` events."""
    out = []
    for e in hit.later[:3]:
        what = f"{escape(placed(e))} · {escape(kind_label(e.kind))}"
        quote_text = escape(shorten(" ".join(e.text.split()), MAX_LATER_QUOTE))
        out.append(f":fast_forward: *Later development:* {what} — “{quote_text}” · {render_citation(e.citation)}")
    return out


#: How a hit's citation line starts, by :meth:`~retrieval.search.answer.Answer.label` (the CLI's words, in mrkdwn).
HIT_MARKS = {"answers": ":white_check_mark: *answers*", "related": ":grey_question: _related_", "far": "_far_"}


def _labelled(answer: Answer, hit: Hit) -> list[str]:
    """The context elements of a hit's citation: its label first (":white_check_mark: answers",
    ":grey_question: related"), then the citation line."""
    mark = HIT_MARKS.get(answer.label(hit) or "")
    return ([mark] if mark else []) + [citation_line(hit)]


def _plain(mrkdwn: str) -> str:
    """A headline without its bold/italic markers, for the fallback text (still escaped)."""
    return mrkdwn.replace("*", "").replace(":warning: ", "")


def fallback_text(answer: Answer, hits: list[Hit], offset: int = 0) -> str:
    """The plain ``text`` sent beside the blocks: the headline (:meth:`~retrieval.search.answer.Answer.headline`),
    the ``as_of`` cut-off line when there is one, and one escaped line per hit, ≤ MAX_FALLBACK_CHARS."""
    lines = [answer.headline(more=bool(offset), show=_shown) + ":"]
    cutoff = answer.cutoff_line()
    if cutoff:
        lines.append(escape(cutoff) + ".")
    for h in hits:
        c = h.citation
        where = ", ".join(p for p in (c.bulletin, c.date, f"item {c.item_number}" if c.item_number is not None else None,
                                      f"p. {c.page}" if c.page is not None else None) if p)
        label = answer.label(h)
        line = f"[{h.rank}]{f' ({label})' if label else ''} “{escape(shorten(h.text, 280))}” — {escape(shorten(where, 300))}"
        if h.later:
            e = h.later[0]
            line += f" (later development: {escape(e.when)} {escape(shorten(e.text, 120))})"
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_FALLBACK_CHARS - 2:
            lines.append("…")  # whole lines only: an entity such as &amp; is never cut in half
            break
        lines.append(line)
    return "\n".join(lines)


def render_usage(note: str | None = None) -> Message:
    """How to ask (for ``/bulletin help``, an empty question, or a bare mention)."""
    text = (escape(note) + "\n\n" if note else "") + USAGE
    return Message(text, [section_block(text)])


def render_notice(text: str) -> Message:
    """A one-sentence notice (errors, "no more results", feedback thanks); ``text`` is escaped here."""
    safe = escape(text)
    return Message(safe, [section_block(safe)])
