"""The digest's messages (pure): new bulletins → ``[{"text", "blocks"}]`` within Slack's limits.

Grouped by bulletin, then section; each item as its number and title, its first sentence or two
(verbatim, escaped) and its citation (:func:`bot.slack.citations.render_citation`); a header with the date
and the count. A digest too long for one message becomes a parent message plus thread replies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date as Date
from datetime import datetime, tzinfo

from bot.slack import blocks as bk
from bot.slack import mrkdwn
from bot.slack.citations import MAX_CITATION_PART, render_citation
from retrieval.chunking import Passage, _sentence_spans
from retrieval.index.generations import BulletinRecord

from .select import NewBulletin

#: A header block's text is at most 150 characters (https://api.slack.com/reference/block-kit/blocks#header).
MAX_HEADER_CHARS = 150
#: The first sentence(s) of an item are cut (at a word, with "…") beyond this many characters.
MAX_EXCERPT_CHARS = 400
#: A first sentence shorter than this gets the second one beside it.
SHORT_SENTENCE_CHARS = 160
#: Bulletins listed in a parent message before "…and N more".
MAX_OVERVIEW_CHARS = 2800

Message = dict  # {"text": str, "blocks": list[dict]}


_LEAD_IN = re.compile(r"[\s*_]*(\([^()]*\))?[\s*_:–—-]*")


def first_sentences(passage: Passage, limit: int = MAX_EXCERPT_CHARS) -> str:
    """The item's first sentence, or two when the first is short: a verbatim slice of the passage text.

    A list entry that repeats the item title first (``- **Title** (links): Text…``) starts after the
    title and its links. Longer than ``limit`` characters: cut at a word boundary, ending in "…".
    Not escaped.
    """
    text, title = passage.text, passage.citation.item_title
    start = 0
    if title:
        at = text.find(title, 0, len(title) + 8)
        if at >= 0 and re.fullmatch(r"[\s*_•-]*", text[:at]):
            lead = _LEAD_IN.match(text, at + len(title))
            if lead is not None and any(ch in lead.group(0) for ch in "*:(") and lead.end() < len(text):
                start = lead.end()
    spans = [(a + start, b + start) for a, b in _sentence_spans(text[start:])]
    if not spans:
        return ""
    a, b = spans[0]
    if b - a < SHORT_SENTENCE_CHARS and len(spans) > 1:
        b = spans[1][1]
    excerpt = text[a:b]
    if len(excerpt) > limit:
        cut = excerpt[: limit - 1]
        space = max(cut.rfind(" "), cut.rfind("\n"))
        excerpt = (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
    return excerpt


def _item_blocks(p: Passage, bulletin: BulletinRecord) -> list[dict]:
    """One item: its number and title, its first sentence(s) as a quote, and its citation."""
    c = p.citation
    if c.item_number is not None:
        head = f"*{c.item_number}. {mrkdwn.escape(mrkdwn.shorten(c.item_title or 'untitled item', MAX_CITATION_PART))}*"
    else:  # a section without numbered items: its heading (just above) is the item's title
        head = ""
    excerpt = first_sentences(p) or "(no text)"
    body = "\n".join([head] * bool(head) + ["> " + mrkdwn.escape(line) for line in excerpt.split("\n")])
    where = render_citation(c, title=bulletin.title, item_title=False, location=True)
    return [bk.section_block(body, verbatim=True), bk.context_block(where)]


def _bulletin_block(b: BulletinRecord, items: int, continued: bool = False) -> dict:
    title = mrkdwn.mrkdwn_link(b.url, mrkdwn.shorten(b.title, MAX_CITATION_PART))
    facts = [mrkdwn.escape(mrkdwn.shorten(b.publisher, MAX_CITATION_PART))] if b.publisher else []
    facts.append(mrkdwn.escape(b.date) if b.date else "date unknown")
    facts.append(f"{items} new item{'s' if items != 1 else ''}")
    return bk.section_block(f":newspaper: *{title}*" + (" _(continued)_" if continued else "") + "\n" + " · ".join(facts))


def _section_block(name: str | None, continued: bool = False) -> dict:
    label = mrkdwn.escape(mrkdwn.shorten(name, MAX_CITATION_PART)) if name else "Other items"
    return bk.context_block(f"*{label}*" + (" _(continued)_" if continued else ""))


def _fits(blocks: list[dict], extra: list[dict]) -> bool:
    return (len(blocks) + len(extra) <= bk.MAX_BLOCKS
            and bk.message_chars(blocks) + bk.message_chars(extra) <= bk.MAX_MESSAGE_CHARS)


def _pack(bulletins: Sequence[NewBulletin], head: list[dict]) -> list[list[dict]]:
    """Pages of blocks: ``head`` first, then bulletin / section headings and items, each page within
    the limits; a bulletin or section cut by a page break is named again "(continued)"."""
    pages: list[list[dict]] = [list(head)]
    for nb in bulletins:
        section_name: object = object()  # no section yet in this bulletin
        for i, p in enumerate(nb.items):
            item = _item_blocks(p, nb.bulletin)
            lead = []
            if i == 0:
                lead.append(_bulletin_block(nb.bulletin, len(nb.items)))
            if p.citation.section != section_name:
                lead.append(_section_block(p.citation.section))
            if not _fits(pages[-1], lead + item):
                pages.append([])
                lead = [_bulletin_block(nb.bulletin, len(nb.items), continued=i > 0)]
                lead.append(_section_block(p.citation.section, continued=p.citation.section == section_name))
            pages[-1].extend(lead + item)
            section_name = p.citation.section
    return pages


def _filter_block(filtered_on: str, count: int, unfiltered: int | None) -> dict:
    """The line saying the digest is filtered: on what, and how many of the new items that kept."""
    of = f" ({count} of {unfiltered} new item{'s' if unfiltered != 1 else ''})" if unfiltered is not None else ""
    return bk.context_block(f":mag: Filtered to your subscriptions: {mrkdwn.escape(mrkdwn.shorten(filtered_on, 1000))}{of} · "
                            "`/bulletin subscriptions` shows them")


def _header(day: Date | str, count: int, bulletins: int, since: datetime | None, tz: tzinfo | None) -> tuple[str, list[dict]]:
    day_s = day.isoformat() if isinstance(day, Date) else str(day)
    title = f"Bulletin digest · {day_s}"[:MAX_HEADER_CHARS]
    if count:
        summary = f"{count} new item{'s' if count != 1 else ''} in {bulletins} bulletin{'s' if bulletins != 1 else ''}"
    else:
        summary = "Nothing new"
    if since is not None:
        local = since.astimezone(tz) if tz is not None else since
        summary += f" since {local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()
    fallback = f"{title}: {summary}"
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
              bk.context_block(summary + " · first sentences quoted verbatim from the bulletins")]
    return fallback, blocks


def _overview(bulletins: Sequence[NewBulletin]) -> dict:
    lines: list[str] = []
    shown = 0
    for nb in bulletins:
        b = nb.bulletin
        line = (f"• {mrkdwn.mrkdwn_link(b.url, mrkdwn.shorten(b.title, MAX_CITATION_PART))} · "
                f"{mrkdwn.escape(b.date) if b.date else 'date unknown'} · {len(nb.items)} item{'s' if len(nb.items) != 1 else ''}")
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_OVERVIEW_CHARS:
            break
        lines.append(line)
        shown += 1
    if shown < len(bulletins):
        lines.append(f"…and {len(bulletins) - shown} more bulletins")
    lines.append(":thread: The items are in the thread.")
    return bk.section_block("\n".join(lines))


def build_digest(bulletins: Sequence[NewBulletin], *, day: Date | str, since: datetime | None = None,
                 tz: tzinfo | None = None, post_empty: bool = False, filtered_on: str | None = None,
                 unfiltered: int | None = None) -> list[Message]:
    """The digest's messages (pure).

    Args:
        bulletins: the new bulletins with their items, in the order to show them.
        day: the digest's date (shown in the header).
        since: the start of the window (shown in the header, in ``tz``), or None.
        tz: the time zone ``since`` is shown in (default: its own).
        post_empty: with nothing new, one "Nothing new" message instead of none.
        filtered_on: the channel's subscriptions ("PIPL, “facial recognition”") when ``bulletins`` holds
            only the items matching them: the header says "Filtered to your subscriptions: …".
        unfiltered: how many new items there were before that filter (shown as "3 of 12 new items").

    Returns:
        ``[{"text", "blocks"}]``: empty when there is nothing to post; one message when the digest
        fits; else a parent (header, count, the list of bulletins) followed by thread replies with the
        items. Every message is within :data:`bot.slack.blocks.MAX_BLOCKS` blocks and
        :data:`bot.slack.blocks.MAX_MESSAGE_CHARS` characters, and has a plain ``text`` fallback.
    """
    count = sum(len(nb.items) for nb in bulletins)
    if not count and not post_empty:
        return []
    fallback, head = _header(day, count, len([nb for nb in bulletins if nb.items]), since, tz)
    if filtered_on:
        head.append(_filter_block(filtered_on, count, unfiltered))
        fallback += f" (filtered to your subscriptions: {mrkdwn.escape(mrkdwn.shorten(filtered_on, 1000))})"
    if not count:
        return [{"text": fallback, "blocks": head}]
    pages = _pack(bulletins, head)
    if len(pages) == 1:
        return [{"text": fallback, "blocks": pages[0]}]
    replies = _pack(bulletins, [])
    parent = {"text": fallback + " (the items are in the thread)", "blocks": head + [_overview(bulletins)]}
    return [parent] + [{"text": f"{fallback} (part {i} of {len(replies)})", "blocks": page}
                       for i, page in enumerate(replies, 1)]
