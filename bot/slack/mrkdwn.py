"""Slack mrkdwn text helpers: escaping, incoming-text cleaning, links, shortening, and block quotes.

Every quoted passage and every echoed question is escaped (``&`` ``<`` ``>``), so corpus text such as
``<!channel>``, ``<@U123>`` or ``<https://evil|gov.cn>`` shows as text and never pings anyone or
disguises a link. Incoming text arrives with ``&amp; &lt; &gt;`` escaped and with ``<@U…>`` /
``<#C…|name>`` / ``<url|label>`` markup: :func:`clean_query` turns it into the plain query the search sees.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse


# -- text safety ----------------------------------------------------------------------------
def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as Slack requires (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of incoming text (``&lt;`` ``&gt;`` then ``&amp;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_MARKUP = re.compile(r"<([^<>]*)>")


def clean_query(text: str | None, bot_user_id: str | None = None) -> str:
    """The plain query in an incoming Slack text.

    Removes mentions of the bot (``<@UBOT>``, ``<@UBOT|name>``) and other user mentions and
    broadcasts; keeps the label (or the address) of links and channel references; decodes
    ``&amp; &lt; &gt;``; collapses whitespace. ``""`` when nothing is left.
    """

    def replace(match: re.Match) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return " " if (bot_user_id is None or target[1:] == bot_user_id or not label) else f" {label} "
        if target.startswith("!"):
            return f" {label} " if label else " "
        if target.startswith("#"):
            return f" #{label} " if label else " "
        return f" {label or target} "

    plain = unescape(_MARKUP.sub(replace, text or ""))
    return " ".join(plain.split())


def mrkdwn_link(url: str | None, label: str) -> str:
    """``<url|label>`` for an http(s) URL, else the escaped label alone."""
    label = escape(label)
    if not url:
        return label
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return label
    safe = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20").replace("&", "&amp;")
    return f"<{safe}|{label}>"


def shorten(text: str, limit: int) -> str:
    """Whitespace folded, cut to at most ``limit`` characters with an ellipsis (for titles and echoes, never quotes)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- quotes -----------------------------------------------------------------------------------
def _format_quote(text: str, highlight: tuple[int, int] | None) -> str:
    """The verbatim text as an escaped mrkdwn block quote, the highlighted sentence in bold."""
    spans: list[tuple[str, bool]] = [(text, False)]
    if highlight is not None:
        start, end = max(0, highlight[0]), min(len(text), highlight[1])
        if start < end and "*" not in text[start:end]:
            spans = [(text[:start], False), (text[start:end], True), (text[end:], False)]
    out: list[str] = []
    for chunk, bold in spans:
        for i, line in enumerate(chunk.split("\n")):
            if i:
                out.append("\n")
            if bold and line.strip():
                lead = line[: len(line) - len(line.lstrip())]
                trail = line[len(line.rstrip()):]
                out.append(f"{escape(lead)}*{escape(line.strip())}*{escape(trail)}")
            else:
                out.append(escape(line))
    return "\n".join("> " + line for line in "".join(out).split("\n"))


def quote(text: str, budget: int, highlight: tuple[int, int] | None = None, url: str | None = None,
          source_file: str | None = None) -> str:
    """The passage as a block quote of at most ``budget`` characters (mrkdwn, escaped).

    A passage too long is cut at a word boundary and ends with "…" and a line linking to the
    source (or naming the source file when no URL is known).
    """
    full = _format_quote(text, highlight)
    if len(full) <= budget:
        return full
    where = mrkdwn_link(url, "read the whole passage") if url else escape(f"the whole passage is in {source_file or 'the bulletin'}")
    note = f"…\n_(quote cut at {{n:,}} of {len(text):,} characters — {where})_"
    room = budget - len(note.format(n=len(text)))
    lo, hi = 0, len(text)  # the longest prefix whose rendering fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(_format_quote(text[:mid], highlight)) <= room:
            lo = mid
        else:
            hi = mid - 1
    n = lo
    space = max(text.rfind(" ", 0, n), text.rfind("\n", 0, n))
    if space > n * 0.8:
        n = space
    body = _format_quote(text[:n].rstrip(), highlight)
    return body + note.format(n=len(text[:n].rstrip()))
