"""Pure rendering of ``/bulletin timeline``: an instrument's rows → Block Kit blocks + a plain ``text`` fallback.

Each event (a :class:`retrieval.instruments.view.Row`) is a verbatim section — the date that places it, its
label(s), the sentence as an escaped block quote (:func:`bot.slack.mrkdwn.quote`, which says so when it
cuts one) — and a context block citing it (:func:`bot.slack.citations.render_citation`, with its link).

Within Slack's limits (the constants of :mod:`bot.slack.blocks`: ≤ 50 blocks, ≤ 3,000 characters per
section, ≤ :data:`~bot.slack.blocks.MAX_MESSAGE_CHARS` in all): a timeline too long for one message shows
its **newest** events (still oldest first) and says, above them, how many older ones were left out
and the dates they span — the latest stage of a law is what a reader most needs.
"""

from __future__ import annotations

from retrieval.instruments.view import Row, listing, not_found, summary

from .blocks import (
    MAX_BLOCKS,
    MAX_FALLBACK_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    Message,
    context_block,
    message_chars,
    section_block,
)
from .citations import render_citation
from .mrkdwn import escape, quote, shorten

#: Characters of one event's quote in Slack (a longer sentence is cut there, with a note and a link).
QUOTE_CHARS = 900
#: Characters kept for the "N older events are left out" note when the budget is worked out.
NOTE_RESERVE = 300
USAGE = ("`/bulletin timeline NAME` follows a law through the bulletins: every event they report about it "
         "(draft, adopted, in force, deadline, guidance, fine…), oldest first, each a verbatim quote with its "
         "citation. NAME is a name, an acronym or an official number: `/bulletin timeline AI Act`, "
         "`/bulletin timeline DPF`, `/bulletin timeline Regulation (EU) 2016/679`.")
FOOTER = ("Verbatim sentences from the bulletins · the date is the one the sentence states, "
          "else its bulletin's (“bulletin of …”)")


def _event_blocks(row: Row) -> list[dict]:
    """The two blocks of one event: its date, labels and quote (verbatim section), and its citation."""
    c = row.citation
    head = f"*{escape(row.placed())}* · {escape(' · '.join(row.labels))}\n"
    body = quote(row.text, min(QUOTE_CHARS, MAX_SECTION_CHARS - len(head)), url=c.url, source_file=c.source_file)
    return [section_block(head + body, verbatim=True), context_block(render_citation(c))]


def left_out_note(older: list[Row]) -> str:
    """``The 3 older events (2019-08 to 2023-05) are left out, to fit in one message.`` (plain text)."""
    span = sorted(r.when for r in older if r.when)
    dates = f" ({span[0]} to {span[-1]})" if span and span[0] != span[-1] else f" ({span[0]})" if span else ""
    n = len(older)
    return (f"The {n} older event{'s' if n != 1 else ''}{dates} {'are' if n != 1 else 'is'} left out, "
            "to fit in one message; the newest are shown.")


def render_timeline(instrument, timeline_rows: list[Row], *, max_chars: int = MAX_MESSAGE_CHARS,
                    max_blocks: int = MAX_BLOCKS) -> Message:
    """Blocks and fallback text for an instrument's timeline.

    Args:
        instrument: the :class:`~retrieval.instruments.names.Instrument` (its ``name`` is the headline).
        timeline_rows: its rows, oldest first (:func:`retrieval.instruments.view.rows`); at least one.
        max_chars: text characters allowed across all blocks (default Slack's, with margin).
        max_blocks: blocks allowed.

    Returns:
        A :class:`~bot.slack.blocks.Message`: a headline, then the newest rows that fit (always at least
        one), oldest first, each as two blocks; when rows were left out a note under the headline
        says how many and which dates; a footer. ``passage_ids`` is empty.
    """
    headline = (f"*Timeline of {escape(shorten(instrument.name, 200))}* — {escape(summary(timeline_rows))} "
                "(verbatim quotes):")
    head = [section_block(headline)]
    tail = [context_block(FOOTER)]
    rendered = [_event_blocks(r) for r in timeline_rows]
    room = max_chars - message_chars(head) - message_chars(tail) - NOTE_RESERVE
    slots = (max_blocks - len(head) - len(tail) - 1) // 2
    first = len(rendered)
    while first > 0 and len(rendered) - first < slots and (
            message_chars(rendered[first - 1]) <= room or first == len(rendered)):
        room -= message_chars(rendered[first - 1])
        first -= 1
    shown, older = timeline_rows[first:], timeline_rows[:first]
    note = [context_block(f":scissors: {escape(left_out_note(older))}")] if older else []
    body = [b for pair in rendered[first:] for b in pair]
    return Message(_fallback(headline, shown, older), head + note + body + tail)


def _fallback(headline: str, shown: list[Row], older: list[Row]) -> str:
    """The plain text beside the blocks: headline, the left-out note, one escaped line per shown row."""
    lines = [headline.replace("*", "")]
    if older:
        lines.append(escape(left_out_note(older)))
    for r in shown:
        c = r.citation
        where = ", ".join(p for p in (c.bulletin, c.date, f"item {c.item_number}" if c.item_number is not None else None,
                                      f"p. {c.page}" if c.page is not None else None) if p)
        line = (f"{escape(r.placed())} · {escape(' · '.join(r.labels))}: “{escape(shorten(r.text, 280))}” — "
                f"{escape(shorten(where, 300))}")
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_FALLBACK_CHARS - 2:
            lines.append("…")  # whole lines only
            break
        lines.append(line)
    return "\n".join(lines)


def render_not_found(index, name: str) -> Message:
    """``No instrument called “X” in the bulletins. Nearest: A, B, C`` (or the known ones), escaped,
    with a hint that ``/bulletin timeline`` lists them."""
    text = escape(not_found(index, name))
    if len(text) > MAX_SECTION_CHARS:
        text = text[:MAX_SECTION_CHARS - 1].rsplit(", ", 1)[0] + "…"
    return Message(text, [section_block(text), context_block("`/bulletin timeline` lists the instruments "
                                                             "the bulletins are about.")])


def render_timeline_usage(index) -> Message:
    """How to ask for a timeline, and the instruments the bulletins are about (name, items about it),
    in sections of ≤ 3,000 characters; past :data:`~bot.slack.blocks.MAX_MESSAGE_CHARS` the rest is counted."""
    known = listing(index)
    blocks = [section_block(USAGE)]
    if not known:
        blocks.append(section_block("No instrument is named in the bulletins yet."))
        return Message(USAGE + "\nNo instrument is named in the bulletins yet.", blocks)
    lines = [f"• {escape(shorten(inst.name, 200))} — {n} item{'s' if n != 1 else ''}" for inst, n in known]
    title = f"*{len(known)} instruments in the bulletins:*"
    chunk: list[str] = [title]
    room = MAX_MESSAGE_CHARS - message_chars(blocks) - 200
    for i, line in enumerate(lines):
        if len(blocks) >= MAX_BLOCKS - 2 or room - len(line) - 1 < 0:
            chunk.append(f"…and {len(lines) - i} more.")
            break
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION_CHARS - 40:
            blocks.append(section_block("\n".join(chunk)))
            chunk = []
        chunk.append(line)
        room -= len(line) + 1
    blocks.append(section_block("\n".join(chunk)))
    names = ", ".join(inst.name for inst, _ in known)
    text = USAGE + "\n" + escape(shorten(f"{len(known)} instruments in the bulletins: {names}",
                                         (MAX_FALLBACK_CHARS - len(USAGE)) // 2))
    return Message(text, blocks)
